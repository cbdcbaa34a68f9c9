"""What the pages read of each source had in common: how many pages of the source were
read, and on how many of them each block (by the key of its normalized words) was seen.
`extract.boilerplate` decides from these counts which blocks are the site's chrome.

A block seen on few pages long ago is forgotten (`add_pages`'s `forget_after`), so the
table grows with the sites' chrome, not with everything they ever published.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping

import sqlite_utils

from .connection import Connection
from .sql import chunks, marks


def add_pages(
    db: sqlite_utils.Database,
    pages: Iterable[tuple[str, Iterable[int]]],
    keep_from: int,
    forget_after: int,
) -> None:
    """Count one more page of its source for each (source, block keys) in `pages`, inside
    the caller's transaction. A block seen on fewer than `keep_from` pages and last seen
    more than `forget_after` pages of its source ago is dropped."""
    per_source: dict[str, list[set[int]]] = {}
    for source, keys in pages:
        per_source.setdefault(source, []).append(set(keys))
    for source, seen in per_source.items():
        row = db.execute("SELECT pages FROM site_pages WHERE source = ?", [source]).fetchone()
        before = row[0] if row else 0
        total = before + len(seen)
        db.execute(
            "INSERT INTO site_pages (source, pages) VALUES (?, ?) "
            "ON CONFLICT (source) DO UPDATE SET pages = excluded.pages",
            [source, total],
        )
        counted = Counter(key for keys in seen for key in keys)
        db.conn.executemany(
            "INSERT INTO site_blocks (source, key, pages, last_page) VALUES (?, ?, ?, ?) "
            "ON CONFLICT (source, key) DO UPDATE SET pages = pages + excluded.pages, "
            "last_page = excluded.last_page",
            [(source, key, n, total) for key, n in counted.items()],
        )
        if before // forget_after != total // forget_after:  # now and then, not every batch
            db.execute(
                "DELETE FROM site_blocks WHERE source = ? AND pages < ? AND last_page < ?",
                [source, keep_from, total - forget_after],
            )


class Boilerplate:
    """Reading the counts (writes go with the extractions: `Items.record_extractions`)."""

    def __init__(self, connection: Connection) -> None:
        self._db = connection.db

    def counts(self, wanted: Mapping[str, Iterable[int]]) -> dict[str, tuple[int, dict[int, int]]]:
        """source → (pages read, key → pages it was seen on) for the `wanted` keys of
        each source (keys never seen are left out)."""
        found: dict[str, tuple[int, dict[int, int]]] = {}
        for source, keys in wanted.items():
            row = self._db.execute(
                "SELECT pages FROM site_pages WHERE source = ?", [source]
            ).fetchone()
            seen: dict[int, int] = {}
            for chunk in chunks(sorted(set(keys))):
                sql = (
                    "SELECT key, pages FROM site_blocks "
                    f"WHERE source = ? AND key IN ({marks(chunk)})"
                )
                seen.update(self._db.execute(sql, [source, *chunk]).fetchall())
            found[source] = (row[0] if row else 0, seen)
        return found

"""Duplicate clusters: each item's dedup sketch (content hash, MinHash signature), the
texts dedup compares, and merges of copies into one story. What a merge does to each
item is `model.deciders.merged_states`; this module reads, asks, writes."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import sqlite_utils

from ..model.deciders import ClusterState, merged_states
from .connection import Connection
from .sql import by_id, chunks, marks


class Clusters:
    """What dedup reads and writes."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._db = connection.db

    def undeduped(self) -> list[dict[str, Any]]:
        """Items read (or given up on) that dedup has not seen yet, oldest first."""
        sql = (
            "SELECT i.id, i.text FROM items i LEFT JOIN signatures s ON s.item_id = i.id "
            "WHERE s.item_id IS NULL AND i.extracted_at IS NOT NULL ORDER BY i.id"
        )
        return list(self._db.query(sql))

    def signature_rows(self) -> list[tuple[int, int, bytes]]:
        """(item id, shingle count, minhash bytes) of every sketched item, by id."""
        sql = "SELECT item_id, shingles, minhash FROM signatures WHERE minhash IS NOT NULL"
        return self._db.execute(sql + " ORDER BY item_id").fetchall()

    def items_by_content_hash(self, hashes: list[str]) -> dict[str, list[int]]:
        """content_hash → ids of the items already stored with that normalized text."""
        found: dict[str, list[int]] = {}
        for chunk in chunks(hashes):
            sql = f"SELECT content_hash, id FROM items WHERE content_hash IN ({marks(chunk)})"
            for digest, item_id in self._db.execute(sql, chunk).fetchall():
                found.setdefault(digest, []).append(item_id)
        return found

    def texts(self, ids: Iterable[int]) -> dict[int, str]:
        """id → text of the items `ids`."""
        return by_id(self._db, "coalesce(text, '')", ids)

    def sources_of(self, ids: Iterable[int]) -> dict[int, str]:
        """id → source of the items `ids`."""
        return by_id(self._db, "source", ids)

    def source_texts(self, source: str) -> Iterator[str]:
        """Texts of the source's items, copies of its other items left out."""
        sql = (
            "SELECT text FROM items WHERE source = ? AND duplicate_of IS NULL "
            "AND coalesce(text, '') != ''"
        )
        for (text,) in self._db.execute(sql, [source]):
            yield text

    def members(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        """The items `ids`, their primaries, and every other copy of those primaries."""
        roots: set[int] = set()
        for chunk in chunks(ids):
            sql = f"SELECT coalesce(duplicate_of, id) FROM items WHERE id IN ({marks(chunk)})"
            roots.update(row[0] for row in self._db.execute(sql, chunk).fetchall())
        members: list[dict[str, Any]] = []
        for chunk in chunks(sorted(roots)):
            sql = (
                "SELECT id, published, canonical_url, page_canonical, status, duplicate_of "
                f"FROM items WHERE id IN ({marks(chunk)}) OR duplicate_of IN ({marks(chunk)})"
            )
            members.extend(self._db.query(sql, chunk + chunk))
        return members

    def record(
        self,
        signatures: Iterable[tuple[int, str | None, int, bytes | None]],
        merges: Iterable[tuple[int, int]],
    ) -> None:
        """Store (item id, content hash, shingle count, minhash) for newly seen items and
        make each (duplicate, primary) pair one story, in one transaction."""
        rows = list(signatures)
        merges = list(merges)
        with self._connection.transaction() as db:
            db.conn.executemany(
                "UPDATE items SET content_hash = ? WHERE id = ?", [(r[1], r[0]) for r in rows]
            )
            db.conn.executemany(
                "INSERT OR REPLACE INTO signatures (item_id, shingles, minhash) VALUES (?, ?, ?)",
                [(r[0], r[2], r[3]) for r in rows],
            )
            if merges:
                _merge(db, merges)


def _merge(db: sqlite_utils.Database, merges: list[tuple[int, int]]) -> None:
    """Apply `merged_states` to the pairs' items as they are now (read under the write
    lock, so a curator's change made meanwhile is not overwritten), and give each
    primary every place its copies were seen."""
    ids = sorted({i for pair in merges for i in pair})
    members: dict[int, ClusterState] = {}
    for chunk in chunks(ids):
        sql = (
            "SELECT id, status, duplicate_of, version FROM items "
            f"WHERE id IN ({marks(chunk)}) OR duplicate_of IN ({marks(chunk)})"
        )
        for row in db.execute(sql, chunk + chunk).fetchall():
            members[row[0]] = ClusterState(*row)
    changed = merged_states(members, merges)
    db.conn.executemany(
        "UPDATE items SET status = ?, duplicate_of = ?, version = ? WHERE id = ?",
        [(s.status, s.duplicate_of, s.version, s.id) for s in changed.values()],
    )
    for duplicate, primary in merges:
        db.execute(
            "INSERT OR IGNORE INTO sightings (item_id, url, source, first_seen) "
            "SELECT ?, url, source, first_seen FROM sightings WHERE item_id = ?",
            [primary, duplicate],
        )

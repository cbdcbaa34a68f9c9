"""Items: new ones from a poll's entries (one per canonical URL, every sighting kept),
what reading their pages gave, their rankings, and the listings `items` prints.

The rules for what changes (which URL shows, how a page's title and date merge, when a
page's canonical URL is adopted) are `model.deciders`; this module reads, asks, writes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

import sqlite_utils

from ..model.deciders import (
    PageFacts,
    page_facts,
    plainest,
    published_or_seen,
    shown_place,
    takes_key,
)
from ..model.times import to_iso
from ..model.types import Entry, Item, Sighting
from ..urls import canonical_url
from .boilerplate import add_pages
from .connection import Connection
from .sql import chunks, marks

_ITEM_COLUMNS = (
    "id", "url", "canonical_url", "source", "status", "first_seen", "title", "summary",
    "summary_text", "text", "html", "published", "author", "language", "image",
    "extracted_from", "topic", "suggested_topic", "score", "why", "blurb", "duplicate_of",
    "version",
)  # fmt: skip
_RECORD_EXTRACTION = """
UPDATE items SET
  text = :text, html = :html, extracted_from = :extracted_from, extract_error = :error,
  extract_attempts = extract_attempts + 1, extracted_at = :extracted_at,
  read_after = :read_after, summary_text = coalesce(:summary_text, summary_text),
  title = :title, author = :author, published = :published,
  description = :description, site_name = :site_name, image = :image,
  language = :language, page_canonical = :page_canonical
WHERE id = :id
"""
_EXTRACTION_FIELDS = (
    "id", "text", "html", "extracted_from", "error", "description", "site_name", "image",
    "language", "page_canonical", "read_after", "summary_text",
)  # fmt: skip


def item_from_row(row: dict[str, Any], also_at: Iterable[Sighting] = ()) -> Item:
    return Item(**{name: row[name] for name in _ITEM_COLUMNS}, also_at=tuple(also_at))


def also_at(db: sqlite_utils.Database, ids: list[int]) -> dict[int, list[Sighting]]:
    """Other places each item was seen: every sighting but its own URL and source."""
    found: dict[int, list[Sighting]] = {}
    for chunk in chunks(ids):
        sql = (
            "SELECT s.item_id, s.url, s.source FROM sightings s JOIN items i "
            f"ON i.id = s.item_id WHERE s.item_id IN ({marks(chunk)}) "
            "AND NOT (s.url = i.url AND s.source = i.source) "
            "ORDER BY s.first_seen, s.source, s.url"
        )
        for item_id, url, source in db.execute(sql, chunk).fetchall():
            found.setdefault(item_id, []).append(Sighting(url, source))
    return found


def items_with_ids(db: sqlite_utils.Database, ids: list[int]) -> dict[int, Item]:
    """id → Item (with `also_at`) for those of `ids` that exist."""
    rows: dict[int, dict[str, Any]] = {}
    for chunk in chunks(ids):
        rows.update(
            (r["id"], r)
            for r in db.query(f"SELECT * FROM items WHERE id IN ({marks(chunk)})", chunk)
        )
    places = also_at(db, list(rows))
    return {i: item_from_row(row, places.get(i, [])) for i, row in rows.items()}


def add_entries(
    db: sqlite_utils.Database, source: str, entries: Iterable[Entry], now: datetime
) -> int:
    """Insert unknown articles and record every sighting, in a few batched statements;
    returns how many items are new. A URL already known (by canonical URL) adds a
    sighting to its item instead."""
    seen_at = to_iso(now) or ""
    by_key: dict[str, list[Entry]] = {}
    for entry in entries:
        by_key.setdefault(canonical_url(entry.url), []).append(entry)
    known = _items_by_key(db, list(by_key))
    fresh = {key: plainest(found) for key, found in by_key.items() if key not in known}
    rows = [_new_item_row(entry, key, source, seen_at) for key, entry in fresh.items()]
    if rows:
        sql = f"INSERT INTO items ({', '.join(rows[0])}) VALUES ({marks(list(rows[0]))})"
        db.conn.executemany(sql, [list(row.values()) for row in rows])
        known.update(_items_by_key(db, list(fresh)))
        index_for_search(db, [known[key][0] for key in fresh])
    for key, found in by_key.items():
        item_id, shown_url = known[key]
        place = (
            None if key in fresh else shown_place(shown_url, Sighting(plainest(found).url, source))
        )
        if place is not None:
            sql = "UPDATE items SET url = ?, source = ? WHERE id = ?"
            db.execute(sql, [place.url, place.source, item_id])
    db.conn.executemany(
        "INSERT OR IGNORE INTO sightings (item_id, url, source, first_seen) VALUES (?, ?, ?, ?)",
        [(known[key][0], e.url, source, seen_at) for key, found in by_key.items() for e in found],
    )
    return len(rows)


def index_for_search(db: sqlite_utils.Database, ids: list[int]) -> None:
    """Add newly inserted items to the full-text index, in one statement a chunk."""
    for chunk in chunks(ids):
        db.execute(
            "INSERT INTO items_fts (rowid, title, summary_text, text) "
            f"SELECT id, title, summary_text, text FROM items WHERE id IN ({marks(chunk)})",
            chunk,
        )


def _items_by_key(db: sqlite_utils.Database, keys: list[str]) -> dict[str, tuple[int, str]]:
    """canonical_url → (id, url) of the items already stored under those keys."""
    found: dict[str, tuple[int, str]] = {}
    for chunk in chunks(keys):
        sql = f"SELECT canonical_url, id, url FROM items WHERE canonical_url IN ({marks(chunk)})"
        for key, item_id, url in db.execute(sql, chunk).fetchall():
            found[key] = (item_id, url)
    return found


def _new_item_row(entry: Entry, key: str, source: str, seen_at: str) -> dict[str, Any]:
    return {
        "url": entry.url,
        "canonical_url": key,
        "title": entry.title,
        "summary": entry.summary,
        "summary_text": entry.summary_text,
        "published": published_or_seen(entry.published, seen_at),
        "first_seen": seen_at,
        "author": entry.author,
        "source": source,
        "status": "new",
    }


class Items:
    """Listing items, reading their pages' results in, and their rankings."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._db = connection.db

    def find(
        self,
        *,
        status: str | None = None,
        source: str | None = None,
        since: datetime | None = None,
        month: str | None = None,
        limit: int | None = None,
    ) -> list[Item]:
        """Items newest first (also_at resolved); empty filters filter nothing."""
        where, params = [], []
        if status:
            where.append("status = ?")
            params.append(status)
        if source:
            where.append("source = ?")
            params.append(source)
        if since:
            where.append("published >= ?")
            params.append(to_iso(since))
        if month:
            where.append("substr(published, 1, 7) = ?")
            params.append(month)
        sql = "SELECT * FROM items"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += " ORDER BY published DESC, id DESC"
        if limit:
            sql += f" LIMIT {int(limit)}"
        rows = list(self._db.query(sql, params))
        places = also_at(self._db, [row["id"] for row in rows])
        return [item_from_row(row, places.get(row["id"], [])) for row in rows]

    def get(self, item_id: int) -> Item | None:
        return items_with_ids(self._db, [item_id]).get(item_id)

    def count(self) -> int:
        return self._db["items"].count

    def ids_by_canonical_url(self, keys: set[str]) -> dict[str, int]:
        """canonical_url → id of the items stored under those keys."""
        return {key: found[0] for key, found in _items_by_key(self._db, sorted(keys)).items()}

    # -- extraction ------------------------------------------------------------------

    def pending_pages(self, now: datetime, sources: Iterable[str] = ()) -> list[dict[str, Any]]:
        """Items whose page has not been read yet (nor given up on) and is due (a page
        that failed in a way that may pass waits for its `read_after`), oldest first;
        only those of `sources` when any are named."""
        sql = (
            "SELECT id, url, title, summary, summary_text, extract_attempts AS attempts, source "
            "FROM items WHERE extracted_at IS NULL AND (read_after IS NULL OR read_after <= ?)"
        )
        params: list[Any] = [to_iso(now)]
        names = list(sources)
        if names:
            sql += f" AND source IN ({marks(names)})"
            params += names
        return list(self._db.query(sql + " ORDER BY id", params))

    def record_extractions(
        self,
        results: Iterable[dict[str, Any]],
        now: datetime,
        seen_blocks: Iterable[tuple[str, Iterable[int]]] = (),
        keep_from: int = 3,
        forget_after: int = 500,
    ) -> None:
        """Store what reading pages gave, and the block keys each page read adds to its
        source's counts (`seen_blocks`, see `boilerplate.add_pages`), in one transaction.

        Each result has `id`, `final` (False: try again on a later run, not before
        `read_after`), `extracted_from`,
        `text`, `html`, `error`, and from a page: `title`, `author`, `published`,
        `description`, `site_name`, `image`, `language`, `page_canonical`,
        `replace_title`, `canonical_url` (the key `deciders.adopted_key` proposed), and
        `summary_text` (the snippet; None keeps the stored one).
        """
        done_at = to_iso(now)
        results = list(results)
        with self._connection.transaction() as db:
            stored = _page_facts(db, [result["id"] for result in results])
            for result in results:
                if result["id"] not in stored:
                    continue  # items are never deleted; a result for none changes nothing
                facts, first_seen = stored[result["id"]]
                read = PageFacts(result.get("title"), result.get("author"), result.get("published"))
                merged = page_facts(facts, first_seen, read, bool(result.get("replace_title")))
                row = {name: result.get(name) for name in _EXTRACTION_FIELDS}
                row.update(title=merged.title, author=merged.author, published=merged.published)
                row["extracted_at"] = done_at if result["final"] else None
                db.execute(_RECORD_EXTRACTION, row)
                _adopt_canonical(db, result["id"], result.get("canonical_url"))
            add_pages(db, seen_blocks, keep_from, forget_after)

    def record_texts(self, texts: Iterable[tuple[int, str, str, str | None]]) -> None:
        """Store (id, text, html, summary_text) of items whose page was read again in
        memory (a site's chrome learned later in the run), in one transaction; a None
        summary_text keeps the stored one."""
        rows = [(text, html, summary, item_id) for item_id, text, html, summary in texts]
        if not rows:
            return
        with self._connection.transaction() as db:
            db.conn.executemany(
                "UPDATE items SET text = ?, html = ?, "
                "summary_text = coalesce(?, summary_text) WHERE id = ?",
                rows,
            )

    # -- ranking ---------------------------------------------------------------------

    def rank_inputs(self, status: str, text_chars: int) -> list[dict[str, Any]]:
        """What ranking reads of the items with a status, oldest first: of the text, only
        the first `text_chars` characters (ranking reads no more; long reports are long)."""
        sql = (
            "SELECT id, title, summary_text, substr(text, 1, ?) AS text, source FROM items "
            "WHERE status = ? ORDER BY id"
        )
        return list(self._db.query(sql, [text_chars, status]))

    def newest_rank_inputs(self, limit: int, text_chars: int) -> list[dict[str, Any]]:
        """What ranking reads of the newest `limit` stored items of any status but
        duplicate (a copy would count its story twice), oldest first."""
        sql = (
            "SELECT * FROM (SELECT id, title, summary_text, substr(text, 1, ?) AS text, source "
            "FROM items WHERE status != 'duplicate' ORDER BY id DESC LIMIT ?) ORDER BY id"
        )
        return list(self._db.query(sql, [text_chars, limit]))

    def decided(self, text_chars: int) -> list[dict[str, Any]]:
        """Accepted and rejected items with what ranking learns from, oldest first."""
        sql = (
            "SELECT id, title, summary_text, substr(text, 1, ?) AS text, source, status, topic "
            "FROM items WHERE status IN ('accepted', 'rejected') ORDER BY id"
        )
        return list(self._db.query(sql, [text_chars]))

    def decision_labels(self) -> list[tuple[int, str, str | None]]:
        """(id, status, topic) of every accepted or rejected item: what the ranking
        model learns from, cheap enough to compare every few minutes."""
        sql = "SELECT id, status, topic FROM items WHERE status IN ('accepted', 'rejected')"
        return [tuple(row) for row in self._db.execute(sql + " ORDER BY id").fetchall()]

    def save_rankings(self, rankings: Iterable[tuple[int, float, str | None, str]]) -> None:
        """Store (id, score, suggested_topic, why) for many items in one transaction."""
        rows = [(score, topic, why, item_id) for item_id, score, topic, why in rankings]
        with self._connection.transaction() as db:
            db.conn.executemany(
                "UPDATE items SET score = ?, suggested_topic = ?, why = ? WHERE id = ?", rows
            )


def _page_facts(db: sqlite_utils.Database, ids: list[int]) -> dict[int, tuple[PageFacts, str]]:
    """id → (title, author and date as stored, first-seen time) of the items `ids`."""
    found: dict[int, tuple[PageFacts, str]] = {}
    for chunk in chunks(ids):
        sql = (
            "SELECT id, title, author, published, first_seen FROM items "
            f"WHERE id IN ({marks(chunk)})"
        )
        for item_id, title, author, published, first_seen in db.execute(sql, chunk).fetchall():
            found[item_id] = (PageFacts(title, author, published), first_seen)
    return found


def _adopt_canonical(db: sqlite_utils.Database, item_id: int, key: str | None) -> None:
    if key is None:
        return
    holder = db.execute("SELECT id FROM items WHERE canonical_url = ?", [key]).fetchone()
    if takes_key(key, holder[0] if holder else None):
        db.execute("UPDATE items SET canonical_url = ? WHERE id = ?", [key, item_id])

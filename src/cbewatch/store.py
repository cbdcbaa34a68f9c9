"""The SQLite store: schema, numbered migrations, and every query. The only module with SQL.

One file (`data_dir/cbewatch.db`) in WAL mode. Writers take `BEGIN IMMEDIATE`; what
belongs together (a source's poll: its health and its new items) commits as one
transaction, so a crash loses only the work in flight, never half of it.
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import sqlite_utils

from .errors import StoreError
from .sources.model import Entry
from .urls import canonical_url, url_noise

BUSY_TIMEOUT_MS = 15_000
ITEM_STATUSES = ("new", "accepted", "rejected", "duplicate")

# The fields `items --json` prints, in order (the design's stable list).
ITEM_FIELDS = (
    "id",
    "url",
    "canonical_url",
    "title",
    "summary",
    "summary_text",
    "text",
    "html",
    "published",
    "first_seen",
    "author",
    "source",
    "language",
    "image",
    "extracted_from",
    "status",
    "topic",
    "suggested_topic",
    "score",
    "why",
    "blurb",
    "duplicate_of",
    "also_at",
)


# Ranking reads an article's start only (rank.TEXT_CHARS): no need to load whole texts.
RANKED_TEXT = "substr(text, 1, 20000) AS text"


def utc_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def to_iso(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def from_iso(text: str | None) -> datetime | None:
    if not text:
        return None
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass(frozen=True)
class SourceState:
    """A source's polling state and health, as stored."""

    name: str
    url: str
    kind: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_polled: datetime | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    last_status: int | None = None
    next_poll: datetime | None = None
    retired_at: datetime | None = None

    @property
    def retired(self) -> bool:
        return self.retired_at is not None


DECISION_FIELDS = ("status", "topic", "blurb")
DECISION_STATUSES = ("new", "accepted", "rejected")


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters; empty values filter nothing."""

    status: str | None = "new"
    source: str | None = None
    topic: str | None = None
    month: str | None = None  # YYYY-MM of the publication date
    search: str | None = None  # free text over title, summary and extracted text


@dataclass(frozen=True)
class QueueCursor:
    """Where the next queue page starts: the last row's sort key."""

    rank: float
    published: str
    id: int

    def token(self) -> str:
        return f"{self.rank!r}~{self.published}~{self.id}"

    @classmethod
    def from_token(cls, token: str | None) -> QueueCursor | None:
        try:
            rank, published, item_id = (token or "").split("~")
            return cls(float(rank), published, int(item_id))
        except ValueError:
            return None


class NoSuchItem(StoreError):
    """The item asked for does not exist."""


class NothingToUndo(StoreError):
    """Undo on an item nobody has decided on."""


class VersionConflict(StoreError):
    """Someone changed the item after the curator saw it: `current` is how it is now."""

    def __init__(self, item_id: int, current: dict[str, Any], last: list[dict[str, Any]]) -> None:
        self.item_id = item_id
        self.current = current
        self.last_change = last[0] if last else None
        who = f" by {self.last_change['who']}" if self.last_change else ""
        super().__init__(
            f"Item {item_id} was changed{who} after you opened it, so your change was not saved."
        )


_STATE_TIMES = ("last_polled", "last_success", "next_poll", "retired_at")


def _state_to_row(state: SourceState) -> dict[str, Any]:
    row = asdict(state)
    for name in _STATE_TIMES:
        row[name] = to_iso(row[name])
    return row


def _state_from_row(row: dict[str, Any]) -> SourceState:
    known = {f.name for f in fields(SourceState)}
    values = {k: v for k, v in row.items() if k in known}
    for name in _STATE_TIMES:
        values[name] = from_iso(values.get(name))
    return SourceState(**values)


# ---------------------------------------------------------------------------------------
# Migrations: MIGRATIONS[n] upgrades a database from version n to n + 1.


def _migrate_0_to_1(db: sqlite_utils.Database) -> None:
    db["sources"].create(
        {
            "name": str,
            "url": str,
            "kind": str,
            "etag": str,
            "last_modified": str,
            "body_hash": str,
            "last_polled": str,
            "last_success": str,
            "consecutive_failures": int,
            "last_error": str,
            "last_status": int,
            "next_poll": str,
            "retired_at": str,
        },
        pk="name",
        not_null={"url", "kind", "consecutive_failures"},
        defaults={"consecutive_failures": 0},
    )
    db["items"].create(
        {
            "id": int,
            "url": str,
            "canonical_url": str,
            "title": str,
            "summary": str,
            "summary_text": str,
            "text": str,
            "html": str,
            "published": str,
            "first_seen": str,
            "author": str,
            "source": str,
            "language": str,
            "image": str,
            "extracted_from": str,
            "status": str,
            "topic": str,
            "suggested_topic": str,
            "score": float,
            "why": str,
            "blurb": str,
            "duplicate_of": int,
            "content_hash": str,
            "version": int,
        },
        pk="id",
        not_null={"url", "canonical_url", "source", "status", "first_seen", "version"},
        defaults={"status": "new", "version": 1},
    )
    db["items"].create_index(["canonical_url"], unique=True)
    db["items"].create_index(["status", "published"])
    db["items"].create_index(["source"])
    db["items"].create_index(["published"])
    # Every place an item was seen: the primary URL and source, and every other copy.
    db["sightings"].create(
        {"item_id": int, "url": str, "source": str, "first_seen": str},
        pk=("item_id", "url", "source"),
        foreign_keys=[("item_id", "items", "id")],
    )


def _migrate_1_to_2(db: sqlite_utils.Database) -> None:
    """Extraction and deduplication: page metadata, attempts, and MinHash signatures."""
    items = db["items"]
    for name, kind in (
        ("description", str),
        ("site_name", str),
        ("page_canonical", str),  # the page's own rel=canonical, kept even when off-site
        ("extract_error", str),
        ("extracted_at", str),
    ):
        items.add_column(name, kind)
    items.add_column("extract_attempts", int, not_null_default=0)
    db.execute("CREATE INDEX items_pending ON items(id) WHERE extracted_at IS NULL")
    items.create_index(["content_hash"])
    items.create_index(["duplicate_of"])
    # One row per item that dedup has seen; `minhash` is NULL for texts too short to sketch.
    db["signatures"].create(
        {"item_id": int, "shingles": int, "minhash": bytes},
        pk="item_id",
        foreign_keys=[("item_id", "items", "id")],
    )


def _migrate_2_to_3(db: sqlite_utils.Database) -> None:
    """The curators' queue: accounts, the audit log, job runs, full-text search, and
    indexes that keep the queue's keyset pagination fast at any size."""
    db["users"].create(
        {"name": str, "password_hash": str, "created": str},
        pk="name",
        not_null={"password_hash", "created"},
    )
    db["audit"].create(
        {
            "id": int,
            "item_id": int,
            "at": str,
            "who": str,
            "action": str,
            "before": str,
            "after": str,
        },
        pk="id",
        not_null={"item_id", "at", "who", "action"},
        foreign_keys=[("item_id", "items", "id")],
    )
    db["audit"].create_index(["item_id", "id"])
    db["job_runs"].create(
        {"id": int, "job": str, "started": str, "finished": str, "outcome": str, "detail": str},
        pk="id",
    )
    db["job_runs"].create_index(["job", "id"])
    # A plain column (not an expression) so row-value keyset comparisons use the index.
    db.execute(
        "ALTER TABLE items ADD COLUMN queue_rank REAL "
        "GENERATED ALWAYS AS (coalesce(score, -1e300)) VIRTUAL"
    )
    db.execute("CREATE INDEX items_queue ON items (status, queue_rank, published, id)")
    db.execute("CREATE INDEX items_rank ON items (queue_rank, published, id)")
    db.execute(
        "CREATE INDEX items_source_queue ON items (status, source, queue_rank, published, id)"
    )
    db.execute(
        "CREATE VIRTUAL TABLE items_fts USING fts5(title, summary_text, text, "
        "content='items', content_rowid='id', tokenize='porter unicode61 remove_diacritics 2')"
    )
    for trigger in _FTS_TRIGGERS:
        db.execute(trigger)
    db.execute("INSERT INTO items_fts (items_fts) VALUES ('rebuild')")


_FTS_ADD = (
    "INSERT INTO items_fts (rowid, title, summary_text, text) "
    "VALUES (new.id, new.title, new.summary_text, new.text);"
)
_FTS_REMOVE = (
    "INSERT INTO items_fts (items_fts, rowid, title, summary_text, text) "
    "VALUES ('delete', old.id, old.title, old.summary_text, old.text);"
)
# Only text changes touch the index: a curator's accept must not rewrite it. New items
# are indexed by `_index_for_search`, one statement a batch: a per-row insert trigger
# cost two thirds of a poll's insert time. (Not executescript: it would commit the
# migration's transaction half-way.)
_FTS_TRIGGERS = (
    f"CREATE TRIGGER items_fts_delete AFTER DELETE ON items BEGIN {_FTS_REMOVE} END",
    "CREATE TRIGGER items_fts_update AFTER UPDATE OF title, summary_text, text ON items "
    f"BEGIN {_FTS_REMOVE} {_FTS_ADD} END",
)


def _migrate_3_to_4(db: sqlite_utils.Database) -> None:
    """Logout that holds: a curator's session cookies carry the user's session
    generation, and logging out (or a new password) bumps it, refusing every older one."""
    db["users"].add_column("session_generation", int, not_null_default=0)


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migrate_0_to_1,
    _migrate_1_to_2,
    _migrate_2_to_3,
    _migrate_3_to_4,
]
SCHEMA_VERSION = len(MIGRATIONS)


class Store:
    """The database. Open with `Store(path)`; it is upgraded to SCHEMA_VERSION on open."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(
                self.path, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
            )
            self.db = sqlite_utils.Database(conn)
            self.db.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
            self._enter_wal_mode()
            self.db.execute("PRAGMA synchronous = NORMAL")
            self.db.execute("PRAGMA foreign_keys = ON")
            self._migrate()
        except sqlite3.DatabaseError as exc:
            raise StoreError(f"{self.path}: cannot open the database ({exc})") from None

    def _enter_wal_mode(self) -> None:
        """Switch a new file to WAL, waiting out other commands doing the same.

        SQLite answers "database is locked" at once, without its busy handler, when two
        connections race to convert a new file; once the file is in WAL this is a no-op.
        """
        deadline = time.monotonic() + BUSY_TIMEOUT_MS / 1000
        while True:
            try:
                self.db.execute("PRAGMA journal_mode = WAL")
                return
            except sqlite3.OperationalError as exc:
                if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() > deadline:
                    raise
                time.sleep(0.01)

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextmanager
    def transaction(self) -> Iterator[sqlite_utils.Database]:
        """A write transaction taken up front (BEGIN IMMEDIATE), committed as a whole."""
        conn = self.db.conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            yield self.db
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    @property
    def schema_version(self) -> int:
        return self.db.execute("PRAGMA user_version").fetchone()[0]

    def _migrate(self) -> None:
        if self._checked_version() == SCHEMA_VERSION:
            return
        with self.transaction() as db:
            # Read again under the write lock: two commands started at once on a new data
            # directory both see version 0, and only the first may run the migrations.
            version = self._checked_version()
            for step in MIGRATIONS[version:]:
                step(db)
            db.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def _checked_version(self) -> int:
        version = self.schema_version
        if version > SCHEMA_VERSION:
            raise StoreError(
                f"{self.path} was written by a newer cbewatch (schema {version}, this one "
                f"knows {SCHEMA_VERSION}); upgrade cbewatch"
            )
        return version

    # -- sources ---------------------------------------------------------------------

    def sync_sources(self, configured: Iterable[tuple[str, str, str]]) -> None:
        """Make the sources table match the config's (name, url, kind) triples.

        A source whose URL or kind changed starts afresh (validators, health, retirement);
        sources gone from the config keep their row so their items keep their name.
        """
        with self.transaction() as db:
            existing = {row["name"]: row for row in db["sources"].rows}
            for name, url, kind in configured:
                row = existing.get(name)
                if row is None:
                    db["sources"].insert(_state_to_row(SourceState(name, url, kind)))
                elif (row["url"], row["kind"]) != (url, kind):
                    db["sources"].update(name, _state_to_row(SourceState(name, url, kind)))

    def source_states(self) -> dict[str, SourceState]:
        return {row["name"]: _state_from_row(row) for row in self.db["sources"].rows}

    def source_state(self, name: str) -> SourceState | None:
        rows = list(self.db["sources"].rows_where("name = ?", [name]))
        return _state_from_row(rows[0]) if rows else None

    def source_item_counts(self) -> dict[str, int]:
        """How many items each source has yielded, copies of other sources' items included."""
        sql = "SELECT source, count(DISTINCT item_id) FROM sightings GROUP BY source"
        return dict(self.db.execute(sql).fetchall())

    def record_poll(
        self,
        name: str,
        entries: Iterable[Entry],
        now: datetime,
        update: Callable[[SourceState], SourceState] = lambda state: state,
    ) -> int:
        """Store what a source's poll found and its new health, in one transaction.

        `update` turns the source's current state into the new one; it is applied to the
        row as read inside the transaction, so two runs polling at once never overwrite
        each other's health. Returns how many new items were stored; a URL already known
        (by canonical URL) adds a sighting to its item instead.
        """
        with self.transaction() as db:
            rows = list(db.query("SELECT * FROM sources WHERE name = ?", [name]))
            if not rows:
                raise StoreError(f"source {name!r} is not in the database")
            state = update(_state_from_row(rows[0]))
            new_items = self._add_entries(db, name, entries, now)
            _insert(db, "sources", _state_to_row(state), replace=True)
        return new_items

    def _add_entries(
        self, db: sqlite_utils.Database, source: str, entries: Iterable[Entry], now: datetime
    ) -> int:
        """Insert unknown articles and record every sighting, in a few batched statements."""
        seen_at = to_iso(now)
        by_key: dict[str, list[Entry]] = {}
        for entry in entries:
            by_key.setdefault(canonical_url(entry.url), []).append(entry)
        known = _items_by_key(db, list(by_key))
        fresh = {key: _plainest(found) for key, found in by_key.items() if key not in known}
        rows = [_item_row(entry, key, source, seen_at) for key, entry in fresh.items()]
        if rows:
            columns = ", ".join(rows[0])
            marks = ", ".join("?" * len(rows[0]))
            sql = f"INSERT INTO items ({columns}) VALUES ({marks})"
            db.conn.executemany(sql, [list(row.values()) for row in rows])
            known.update(_items_by_key(db, list(fresh)))
            _index_for_search(db, [known[key][0] for key in fresh])
        for key, found in by_key.items():
            if key in fresh:
                continue
            item_id, shown_url = known[key]
            plainest = _plainest(found)
            if url_noise(plainest.url) < url_noise(shown_url):
                # A republisher's tracking link was seen first; show the plain one.
                sql = "UPDATE items SET url = ?, source = ? WHERE id = ?"
                db.execute(sql, [plainest.url, source, item_id])
        db.conn.executemany(
            "INSERT OR IGNORE INTO sightings (item_id, url, source, first_seen) "
            "VALUES (?, ?, ?, ?)",
            [
                (known[key][0], e.url, source, seen_at)
                for key, found in by_key.items()
                for e in found
            ],
        )
        return len(rows)

    # -- items -----------------------------------------------------------------------

    def items(
        self,
        *,
        status: str | None = None,
        source: str | None = None,
        since: datetime | None = None,
        month: str | None = None,
        limit: int | None = None,
    ) -> list[dict[str, Any]]:
        """Items newest first, as dicts with the ITEM_FIELDS (also_at resolved)."""
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
        rows = list(self.db.query(sql, params))
        also_at = self._also_at([row["id"] for row in rows])
        return [_public_item(row, also_at.get(row["id"], [])) for row in rows]

    def item(self, item_id: int) -> dict[str, Any] | None:
        rows = list(self.db.query("SELECT * FROM items WHERE id = ?", [item_id]))
        if not rows:
            return None
        return _public_item(rows[0], self._also_at([item_id]).get(item_id, []))

    def rank_inputs(self, status: str = "new") -> list[dict[str, Any]]:
        """What ranking reads of the items with a status, oldest first."""
        sql = (
            f"SELECT id, title, summary_text, {RANKED_TEXT}, source FROM items "
            "WHERE status = ? ORDER BY id"
        )
        return list(self.db.query(sql, [status]))

    def decided_items(self) -> list[dict[str, Any]]:
        """Accepted and rejected items with what ranking learns from, oldest first."""
        sql = (
            f"SELECT id, title, summary_text, {RANKED_TEXT}, source, status, topic FROM items "
            "WHERE status IN ('accepted', 'rejected') ORDER BY id"
        )
        return list(self.db.query(sql))

    def decision_labels(self) -> list[tuple[int, str, str | None]]:
        """(id, status, topic) of every accepted or rejected item: what the ranking
        model learns from, cheap enough to compare every few minutes."""
        sql = "SELECT id, status, topic FROM items WHERE status IN ('accepted', 'rejected')"
        return [tuple(row) for row in self.db.execute(sql + " ORDER BY id").fetchall()]

    def save_rankings(self, rankings: Iterable[tuple[int, float, str | None, str]]) -> None:
        """Store (id, score, suggested_topic, why) for many items in one transaction."""
        rows = [(score, topic, why, item_id) for item_id, score, topic, why in rankings]
        with self.transaction() as db:
            db.conn.executemany(
                "UPDATE items SET score = ?, suggested_topic = ?, why = ? WHERE id = ?", rows
            )

    def count_items(self) -> int:
        return self.db["items"].count

    # -- extraction ------------------------------------------------------------------

    def pending_pages(self) -> list[dict[str, Any]]:
        """Items whose page has not been read yet (nor given up on), oldest first."""
        sql = (
            "SELECT id, url, title, summary, summary_text, extract_attempts AS attempts "
            "FROM items WHERE extracted_at IS NULL ORDER BY id"
        )
        return list(self.db.query(sql))

    def record_extractions(self, results: Iterable[dict[str, Any]], now: datetime) -> None:
        """Store what reading pages gave, in one transaction.

        Each result has `id`, `final` (False: try again on a later run), `extracted_from`,
        `text`, `html`, `error`, and from a page: `title`, `author`, `published`,
        `description`, `site_name`, `image`, `language`, `page_canonical`, and
        `canonical_url` (the page's rel=canonical when it stays on the item's site).
        A title, author or date the source already gave is kept (a title is replaced
        when `replace_title`: the source only made it up from the URL).
        """
        done_at = to_iso(now)
        with self.transaction() as db:
            for result in results:
                row = {name: result.get(name) for name in _EXTRACTION_FIELDS}
                row["extracted_at"] = done_at if result["final"] else None
                db.execute(_RECORD_EXTRACTION, row)
                if result.get("canonical_url"):
                    _adopt_canonical(db, result["id"], result["canonical_url"])

    # -- deduplication ---------------------------------------------------------------

    def undeduped(self) -> list[dict[str, Any]]:
        """Items read (or given up on) that dedup has not seen yet, oldest first."""
        sql = (
            "SELECT i.id, i.text FROM items i LEFT JOIN signatures s ON s.item_id = i.id "
            "WHERE s.item_id IS NULL AND i.extracted_at IS NOT NULL ORDER BY i.id"
        )
        return list(self.db.query(sql))

    def signature_rows(self) -> list[tuple[int, int, bytes]]:
        """(item id, shingle count, minhash bytes) of every sketched item, by id."""
        sql = "SELECT item_id, shingles, minhash FROM signatures WHERE minhash IS NOT NULL"
        return self.db.execute(sql + " ORDER BY item_id").fetchall()

    def items_by_content_hash(self, hashes: list[str]) -> dict[str, list[int]]:
        """content_hash → ids of the items already stored with that normalized text."""
        found: dict[str, list[int]] = {}
        for start in range(0, len(hashes), 500):
            chunk = hashes[start : start + 500]
            sql = f"SELECT content_hash, id FROM items WHERE content_hash IN ({_marks(chunk)})"
            for digest, item_id in self.db.execute(sql, chunk).fetchall():
                found.setdefault(digest, []).append(item_id)
        return found

    def texts(self, ids: Iterable[int]) -> dict[int, str]:
        """id → text of the items `ids`."""
        return self._by_id("coalesce(text, '')", ids)

    def _by_id(self, column: str, ids: Iterable[int]) -> dict[int, Any]:
        """id → `column` (an SQL expression of ours, never input) for the items `ids`,
        asked 500 at a time (SQLite's limit on bound parameters)."""
        ids = list(ids)
        found: dict[int, Any] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"SELECT id, {column} FROM items WHERE id IN ({_marks(chunk)})"
            found.update(self.db.execute(sql, chunk).fetchall())
        return found

    def cluster_members(self, ids: Iterable[int]) -> list[dict[str, Any]]:
        """The items `ids`, their primaries, and every other copy of those primaries."""
        ids = list(ids)
        roots: set[int] = set()
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = f"SELECT coalesce(duplicate_of, id) FROM items WHERE id IN ({_marks(chunk)})"
            roots.update(row[0] for row in self.db.execute(sql, chunk).fetchall())
        members: list[dict[str, Any]] = []
        ordered = sorted(roots)
        for start in range(0, len(ordered), 500):
            chunk = ordered[start : start + 500]
            sql = (
                "SELECT id, published, canonical_url, page_canonical, status, duplicate_of "
                f"FROM items WHERE id IN ({_marks(chunk)}) OR duplicate_of IN ({_marks(chunk)})"
            )
            members.extend(self.db.query(sql, chunk + chunk))
        return members

    def record_dedup(
        self,
        signatures: Iterable[tuple[int, str | None, int, bytes | None]],
        merges: Iterable[tuple[int, int]],
    ) -> None:
        """Store (item id, content hash, shingle count, minhash) for newly seen items and
        make each (duplicate, primary) pair one story, in one transaction."""
        with self.transaction() as db:
            rows = list(signatures)
            db.conn.executemany(
                "UPDATE items SET content_hash = ? WHERE id = ?", [(r[1], r[0]) for r in rows]
            )
            db.conn.executemany(
                "INSERT OR REPLACE INTO signatures (item_id, shingles, minhash) VALUES (?, ?, ?)",
                [(r[0], r[2], r[3]) for r in rows],
            )
            for duplicate, primary in merges:
                _merge(db, duplicate, primary)

    def _also_at(self, ids: list[int]) -> dict[int, list[dict[str, str]]]:
        """Other places each item was seen: every sighting but its own URL and source."""
        found: dict[int, list[dict[str, str]]] = {}
        for start in range(0, len(ids), 500):
            chunk = ids[start : start + 500]
            sql = (
                "SELECT s.item_id, s.url, s.source FROM sightings s JOIN items i "
                f"ON i.id = s.item_id WHERE s.item_id IN ({_marks(chunk)}) "
                "AND NOT (s.url = i.url AND s.source = i.source) "
                "ORDER BY s.first_seen, s.source, s.url"
            )
            for item_id, url, source in self.db.execute(sql, chunk).fetchall():
                found.setdefault(item_id, []).append({"url": url, "source": source})
        return found

    # -- the curators' queue ------------------------------------------------------------

    def queue_page(
        self, query: QueueQuery, after: QueueCursor | None = None, limit: int = 50
    ) -> tuple[list[dict[str, Any]], QueueCursor | None]:
        """One page of the queue, best first (score, then newest), and the cursor of the
        next page (None on the last). Keyset pagination: no OFFSET, so page 200 costs
        what page 1 does."""
        where, params = _queue_filters(query, self._many_matches(query, limit))
        if after is not None:
            # The queue's order: best score first, unranked items last, then newest.
            where.append("(queue_rank, published, id) < (?, ?, ?)")
            params += [after.rank, after.published, after.id]
        # First the page's keys alone (the indexes hold them), then its rows: a search
        # matching thousands of items sorts their keys, not their texts.
        sql = "SELECT id, queue_rank, published FROM items"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY queue_rank DESC, published DESC, id DESC LIMIT {int(limit) + 1}"
        keys = self.db.execute(sql, params).fetchall()
        more = len(keys) > limit
        keys = keys[:limit]
        ids = [key[0] for key in keys]
        rows = {
            row["id"]: row
            for row in self.db.query(f"SELECT * FROM items WHERE id IN ({_marks(ids)})", ids)
        }
        also_at = self._also_at(ids)
        page = [_queue_item(rows[i], also_at.get(i, [])) for i in ids if i in rows]
        cursor = QueueCursor(keys[-1][1], keys[-1][2], keys[-1][0]) if more else None
        return page, cursor

    def _many_matches(self, query: QueueQuery, limit: int) -> bool:
        """Whether a search matches so many items that walking the queue's order and
        keeping the matches beats sorting every match (counting them is cheap). Ten
        pages' worth: a word in 1% of 100,000 items is found faster walking (the search
        page's growth from 1k to 100k items in bench/queue.py: ×1.83, against ×2.2 when
        more than twenty pages' worth were needed)."""
        match = fts_query(query.search or "")
        if not match:
            return False
        sql = "SELECT count(*) FROM items_fts WHERE items_fts MATCH ?"
        return self.db.execute(sql, [match]).fetchone()[0] > 10 * limit

    def queue_item(self, item_id: int) -> dict[str, Any] | None:
        """An item as the queue shows it (with its version), or None."""
        rows = list(self.db.query("SELECT * FROM items WHERE id = ?", [item_id]))
        if not rows:
            return None
        return _queue_item(rows[0], self._also_at([item_id]).get(item_id, []))

    def queue_choices(self) -> dict[str, list[str]]:
        """The values the queue's filters offer: every source, and every month from the
        oldest item's to the newest's (read from indexes: cheap at any size)."""
        sources = [row[0] for row in self.db.execute("SELECT name FROM sources ORDER BY name")]
        # Two statements: SQLite reads a lone min() or max() off the index, not a pair.
        oldest = self.db.execute("SELECT min(published) FROM items").fetchone()[0]
        newest = self.db.execute("SELECT max(published) FROM items").fetchone()[0]
        return {"sources": sources, "months": months_between(oldest, newest)}

    def set_decision(
        self,
        item_id: int,
        changes: dict[str, Any],
        who: str,
        expected_version: int | None = None,
        action: str = "decide",
    ) -> dict[str, Any]:
        """A curator's decision on one item: any of status, topic and blurb, written
        with the item's version bumped and one audit row, in one transaction.

        With `expected_version` (what the curator saw), a change made meanwhile by
        someone else raises VersionConflict carrying the item as it is now. The web
        queue and `cbewatch triage` both decide through here.
        """
        unknown = set(changes) - set(DECISION_FIELDS)
        if unknown:
            raise ValueError(f"not a decision field: {', '.join(sorted(unknown))}")
        if changes.get("status", "new") not in DECISION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(DECISION_STATUSES)}")
        with self.transaction() as db:
            row = self._decidable_row(db, item_id, expected_version)
            self._write_decision(db, row, changes, who, action)
        return self.queue_item(item_id) or {}

    def undo_decision(
        self, item_id: int, who: str, expected_version: int | None = None
    ) -> dict[str, Any]:
        """Put back what the item's latest audited change replaced (itself audited, so
        undoing twice redoes). Raises NothingToUndo when the item was never changed."""
        with self.transaction() as db:
            row = self._decidable_row(db, item_id, expected_version)
            sql = "SELECT before FROM audit WHERE item_id = ? ORDER BY id DESC LIMIT 1"
            last = db.execute(sql, [item_id]).fetchone()
            if last is None:
                raise NothingToUndo(f"item {item_id} has no decision to undo")
            self._write_decision(db, row, json.loads(last[0]), who, "undo")
        return self.queue_item(item_id) or {}

    def _decidable_row(
        self, db: sqlite_utils.Database, item_id: int, expected_version: int | None
    ) -> dict[str, Any]:
        rows = list(db.query("SELECT * FROM items WHERE id = ?", [item_id]))
        if not rows:
            raise NoSuchItem(f"there is no item {item_id}")
        row = rows[0]
        if expected_version is not None and row["version"] != expected_version:
            current = _queue_item(row, self._also_at([item_id]).get(item_id, []))
            raise VersionConflict(item_id, current, self.audit_log(item_id)[:1])
        return row

    def _write_decision(
        self,
        db: sqlite_utils.Database,
        row: dict[str, Any],
        changes: dict[str, Any],
        who: str,
        action: str,
    ) -> None:
        before = {name: row[name] for name in changes}
        sets = ", ".join(f"{name} = ?" for name in changes)
        db.execute(
            f"UPDATE items SET {sets}, version = version + 1 WHERE id = ?",
            [*changes.values(), row["id"]],
        )
        _insert(
            db,
            "audit",
            {
                "item_id": row["id"],
                "at": to_iso(utc_now()),
                "who": who,
                "action": action,
                "before": json.dumps(before, ensure_ascii=False),
                "after": json.dumps(changes, ensure_ascii=False),
            },
        )

    def audit_log(self, item_id: int) -> list[dict[str, Any]]:
        """Who changed the item, how and when, newest first."""
        sql = "SELECT * FROM audit WHERE item_id = ? ORDER BY id DESC"
        rows = list(self.db.query(sql, [item_id]))
        for row in rows:
            row["before"] = json.loads(row["before"] or "{}")
            row["after"] = json.loads(row["after"] or "{}")
        return rows

    # -- accounts -------------------------------------------------------------------------

    def save_user(self, name: str, password_hash: str) -> bool:
        """Create a curator account, or set a new password and end the account's
        sessions (whoever knew the old one is logged out); True when it is new."""
        with self.transaction() as db:
            known = db.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone()
            row = {"name": name, "password_hash": password_hash, "created": to_iso(utc_now())}
            if known:
                db.execute(
                    "UPDATE users SET password_hash = ?, "
                    "session_generation = session_generation + 1 WHERE name = ?",
                    [password_hash, name],
                )
            else:
                _insert(db, "users", row)
        return known is None

    def password_hash(self, name: str) -> str | None:
        row = self.db.execute("SELECT password_hash FROM users WHERE name = ?", [name]).fetchone()
        return row[0] if row else None

    def session_generation(self, name: str) -> int | None:
        """The generation a session of `name` must carry to be valid; None for no such
        user. Asked on every request: one primary-key lookup."""
        sql = "SELECT session_generation FROM users WHERE name = ?"
        row = self.db.execute(sql, [name]).fetchone()
        return row[0] if row else None

    def end_sessions(self, name: str) -> None:
        """Refuse every session of `name` made until now (logout)."""
        with self.transaction() as db:
            db.execute(
                "UPDATE users SET session_generation = session_generation + 1 WHERE name = ?",
                [name],
            )

    # -- operations: health, job runs, backups ------------------------------------------

    def health(self) -> dict[str, Any]:
        """What /healthz reports of the data: the last poll and how many sources fail."""
        sql = (
            "SELECT max(last_polled), sum(consecutive_failures > 0 OR retired_at IS NOT NULL) "
            "FROM sources"
        )
        last_poll, failing = self.db.execute(sql).fetchone()
        return {"last_poll": last_poll, "failing_sources": failing or 0}

    def start_job_run(self, job: str) -> int:
        with self.transaction() as db:
            return _insert(db, "job_runs", {"job": job, "started": to_iso(utc_now())})

    def finish_job_run(self, run_id: int, outcome: str, detail: str = "") -> None:
        with self.transaction() as db:
            db.execute(
                "UPDATE job_runs SET finished = ?, outcome = ?, detail = ? WHERE id = ?",
                [to_iso(utc_now()), outcome, detail, run_id],
            )

    def recent_job_runs(self, limit: int = 10) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM job_runs ORDER BY id DESC LIMIT {int(limit)}"
        return list(self.db.query(sql))

    def prune_job_runs(self, before: datetime) -> int:
        """Forget job runs that started before `before`; returns how many."""
        with self.transaction() as db:
            cursor = db.execute("DELETE FROM job_runs WHERE started < ?", [to_iso(before)])
            return cursor.rowcount

    def backup_to(self, target: Path) -> None:
        """A consistent, compact copy of the database at `target` (VACUUM INTO), safe
        while others write: never a file copy of a WAL database. Written beside the
        target first, so a crash never leaves half a backup under its name."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            self.db.execute("VACUUM INTO ?", [str(partial)])
        except sqlite3.Error as exc:
            partial.unlink(missing_ok=True)
            raise StoreError(f"{target}: the backup failed ({exc})") from None
        partial.replace(target)

    # -- deduplication: a source's boilerplate ----------------------------------------

    def sources_of(self, ids: Iterable[int]) -> dict[int, str]:
        """id → source of the items `ids`."""
        return self._by_id("source", ids)

    def source_texts(self, source: str) -> Iterator[str]:
        """Texts of the source's items, copies of its other items left out."""
        sql = (
            "SELECT text FROM items WHERE source = ? AND duplicate_of IS NULL "
            "AND coalesce(text, '') != ''"
        )
        for (text,) in self.db.execute(sql, [source]):
            yield text


_EXTRACTION_FIELDS = (
    "id", "text", "html", "extracted_from", "error", "title", "author", "published",
    "description", "site_name", "image", "language", "page_canonical", "replace_title",
)  # fmt: skip
_RECORD_EXTRACTION = """
UPDATE items SET
  text = :text, html = :html, extracted_from = :extracted_from, extract_error = :error,
  extract_attempts = extract_attempts + 1, extracted_at = :extracted_at,
  title = CASE WHEN :replace_title OR coalesce(title, '') = '' THEN coalesce(:title, title)
          ELSE title END,
  author = coalesce(author, :author),
  published = CASE WHEN published = first_seen THEN coalesce(:published, published)
              ELSE published END,
  description = :description, site_name = :site_name, image = :image,
  language = :language, page_canonical = :page_canonical
WHERE id = :id
"""


def _adopt_canonical(db: sqlite_utils.Database, item_id: int, key: str) -> None:
    """Take the page's own canonical URL as the item's key, unless another item has it.

    Then the text decides: sites whose template names one page (or the home page) as
    every article's canonical are common, and must not fold a site into one item.
    """
    found = db.execute("SELECT 1 FROM items WHERE canonical_url = ?", [key]).fetchone()
    if found is None:
        db.execute("UPDATE items SET canonical_url = ? WHERE id = ?", [key, item_id])


def _merge(db: sqlite_utils.Database, duplicate: int, primary: int) -> None:
    """`duplicate` (and its own copies) become copies of `primary`, whose sightings
    gain every place they were seen."""
    # The version moves too, so a curator who has the copy open cannot accept it unawares.
    db.execute(
        "UPDATE items SET status = 'duplicate', duplicate_of = ?, version = version + 1 "
        "WHERE id = ?",
        [primary, duplicate],
    )
    db.execute("UPDATE items SET duplicate_of = ? WHERE duplicate_of = ?", [primary, duplicate])
    db.execute(
        "INSERT OR IGNORE INTO sightings (item_id, url, source, first_seen) "
        "SELECT ?, url, source, first_seen FROM sightings WHERE item_id = ?",
        [primary, duplicate],
    )
    db.execute(
        "UPDATE items SET status = 'new', duplicate_of = NULL "
        "WHERE id = ? AND status = 'duplicate'",
        [primary],
    )


def _index_for_search(db: sqlite_utils.Database, ids: list[int]) -> None:
    """Add newly inserted items to the full-text index, in one statement a chunk."""
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        db.execute(
            "INSERT INTO items_fts (rowid, title, summary_text, text) "
            f"SELECT id, title, summary_text, text FROM items WHERE id IN ({_marks(chunk)})",
            chunk,
        )


def _items_by_key(db: sqlite_utils.Database, keys: list[str]) -> dict[str, tuple[int, str]]:
    """canonical_url → (id, url) of the items already stored under those keys."""
    found: dict[str, tuple[int, str]] = {}
    for start in range(0, len(keys), 500):
        chunk = keys[start : start + 500]
        sql = f"SELECT canonical_url, id, url FROM items WHERE canonical_url IN ({_marks(chunk)})"
        for key, item_id, url in db.execute(sql, chunk).fetchall():
            found[key] = (item_id, url)
    return found


def _plainest(entries: list[Entry]) -> Entry:
    if len(entries) == 1:
        return entries[0]
    return min(entries, key=lambda entry: url_noise(entry.url))  # first of equals wins


def _marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def _insert(
    db: sqlite_utils.Database, table: str, row: dict[str, Any], replace: bool = False
) -> int:
    """A plain INSERT: sqlite-utils' insert() inspects the table on every call, which
    costs more than the write itself on the polling path."""
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    names = ", ".join(row)
    marks = ", ".join("?" * len(row))
    cursor = db.execute(f"{verb} INTO {table} ({names}) VALUES ({marks})", list(row.values()))
    return cursor.lastrowid or 0


def _item_row(entry: Entry, key: str, source: str, seen_at: str | None) -> dict[str, Any]:
    return {
        "url": entry.url,
        "canonical_url": key,
        "title": entry.title,
        "summary": entry.summary,
        "summary_text": entry.summary_text,
        "published": to_iso(entry.published) or seen_at,
        "first_seen": seen_at,
        "author": entry.author,
        "source": source,
        "status": "new",
    }


def _public_item(row: dict[str, Any], also_at: list[dict[str, str]]) -> dict[str, Any]:
    item = {name: row.get(name) for name in ITEM_FIELDS}
    item["also_at"] = also_at
    return item


def _queue_item(row: dict[str, Any], also_at: list[dict[str, str]]) -> dict[str, Any]:
    item = _public_item(row, also_at)
    item["version"] = row["version"]
    return item


def _queue_filters(query: QueueQuery, many_matches: bool = False) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for column in ("status", "source", "topic"):
        value = getattr(query, column)
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if query.month:
        where.append("published >= ? AND published < ?")
        params += [query.month, query.month + "~"]  # every "YYYY-MM…" sorts between
    match = fts_query(query.search or "")
    if match:
        # `+id` keeps SQLite from driving the query by the matches' rowids, so it walks an
        # index in the queue's order instead: fast when most items match.
        column = "+id" if many_matches else "id"
        where.append(f"{column} IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
        params.append(match)
    return where, params


def months_between(oldest: str | None, newest: str | None) -> list[str]:
    """ "YYYY-MM" of every month from newest back to oldest (ISO dates or None)."""
    if not oldest or not newest:
        return []
    year, month = int(newest[:4]), int(newest[5:7])
    end = (int(oldest[:4]), int(oldest[5:7]))
    months = []
    while (year, month) >= end and len(months) < 1200:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def fts_query(text: str) -> str:
    """A curator's words as an FTS5 query: every word must appear, in any form the
    stemmer joins (grade, grades, grading); quotes keep FTS5 operators in the input
    from meaning anything."""
    words = [w.replace('"', "") for w in text.split()]
    return " ".join(f'"{w}"' for w in words if w)

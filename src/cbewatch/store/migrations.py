"""The schema as numbered steps: MIGRATIONS[n] upgrades a database from version n to
n + 1, inside the opening connection's write transaction (`PRAGMA user_version` holds the
version). A step, once released, never changes: a new need is a new step.
"""

from __future__ import annotations

from collections.abc import Callable

import sqlite_utils

from ..model.deciders import snippet
from ..sanitize import without_tags


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
# are indexed by `items.index_for_search`, one statement a batch: a per-row insert trigger
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


def _migrate_4_to_5(db: sqlite_utils.Database) -> None:
    """The monthly issue: each revision of a month's issue as one JSON document (sections
    and entries in the curators' order), and which month's issue holds each item, so an
    item is in one issue at most."""
    db["issues"].create(
        {
            "month": str,
            "revision": int,
            "status": str,
            "version": int,
            "body": str,
            "updated": str,
            "approved_at": str,
            "sent_at": str,
        },
        pk=("month", "revision"),
        not_null={"status", "version", "body"},
    )
    db["issues"].create_index(["status", "month"])
    db["issue_items"].create(
        {"item_id": int, "month": str},
        pk="item_id",
        not_null={"month"},
        foreign_keys=[("item_id", "items", "id")],
    )
    db["issue_items"].create_index(["month"])


def _migrate_5_to_6(db: sqlite_utils.Database) -> None:
    """Subscribers and delivery: the list (one row per normalized address, with where its
    consent came from), and the delivery ledger, one row per (issue month, subscriber),
    whose status says what happened to that one email."""
    db["subscribers"].create(
        {
            "id": int,
            "email": str,
            "name": str,
            "status": str,
            "created": str,
            "confirmed": str,
            "unsubscribed": str,
            "source": str,
            "bounces": int,
        },
        pk="id",
        not_null={"email", "status", "created", "bounces"},
        defaults={"bounces": 0},
    )
    db["subscribers"].create_index(["email"], unique=True)
    db["subscribers"].create_index(["status"])
    db["deliveries"].create(
        {
            "month": str,
            "subscriber_id": int,
            "revision": int,
            "email": str,
            "status": str,
            "attempts": int,
            "in_doubt": int,
            "reply": str,
            "error": str,
            "updated": str,
        },
        pk=("month", "subscriber_id"),
        not_null={"revision", "email", "status", "attempts", "in_doubt"},
        defaults={"attempts": 0, "in_doubt": 0},
        foreign_keys=[("subscriber_id", "subscribers", "id")],
    )
    db["deliveries"].create_index(["month", "status"])


def _migrate_6_to_7(db: sqlite_utils.Database) -> None:
    """Page reads that back off: an item whose page failed in a way that may pass (a
    timeout, a 5xx) is not tried again before `read_after`."""
    db["items"].add_column("read_after", str)


def _migrate_7_to_8(db: sqlite_utils.Database) -> None:
    """Site-level boilerplate and a snippet for every item: how many pages of each source
    were read and on how many each block was seen (`store.boilerplate`); items read
    before, whose feed gave no summary, get one from their page (`deciders.snippet`)."""
    db.execute("CREATE TABLE site_pages (source TEXT PRIMARY KEY, pages INTEGER NOT NULL)")
    db.execute(
        "CREATE TABLE site_blocks (source TEXT NOT NULL, key INTEGER NOT NULL, "
        "pages INTEGER NOT NULL, last_page INTEGER NOT NULL, PRIMARY KEY (source, key)) "
        "WITHOUT ROWID"
    )
    rows = db.execute(
        "SELECT id, description, text FROM items WHERE extracted_from = 'page' "
        "AND coalesce(summary_text, '') = ''"
    ).fetchall()
    db.conn.executemany(
        "UPDATE items SET summary_text = ? WHERE id = ?",
        [
            (without_tags(snippet("", description, text)), item_id)
            for item_id, description, text in rows
        ],
    )


def _migrate_8_to_9(db: sqlite_utils.Database) -> None:
    """A search's matches sorted from an index: each match's queue keys and filtered
    columns are read from `items_search_keys` (by id), not from its row with its texts,
    three times faster at 100,000 items (`store.queue`, plan "sort")."""
    db.execute(
        "CREATE INDEX items_search_keys ON items (id, status, queue_rank, published, source, topic)"
    )


MIGRATIONS: list[Callable[[sqlite_utils.Database], None]] = [
    _migrate_0_to_1,
    _migrate_1_to_2,
    _migrate_2_to_3,
    _migrate_3_to_4,
    _migrate_4_to_5,
    _migrate_5_to_6,
    _migrate_6_to_7,
    _migrate_7_to_8,
    _migrate_8_to_9,
]
SCHEMA_VERSION = len(MIGRATIONS)

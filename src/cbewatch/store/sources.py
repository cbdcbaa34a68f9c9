"""Sources and their health: the config's sources mirrored in the database, each one's
validators and polling state, and a poll's result (its new state and its new items)
committed as one transaction."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import asdict, fields
from datetime import datetime
from typing import Any

import sqlite_utils

from ..errors import StoreError
from ..model.times import from_iso, to_iso
from ..model.types import Entry, SourceState
from .connection import Connection
from .items import add_entries
from .sql import insert

_STATE_TIMES = ("last_polled", "last_success", "next_poll", "retired_at")
_STATE_FIELDS = frozenset(f.name for f in fields(SourceState))


def _state_to_row(state: SourceState) -> dict[str, Any]:
    row = asdict(state)
    for name in _STATE_TIMES:
        row[name] = to_iso(row[name])
    return row


def _state_from_row(row: dict[str, Any]) -> SourceState:
    values = {k: v for k, v in row.items() if k in _STATE_FIELDS}
    for name in _STATE_TIMES:
        values[name] = from_iso(values.get(name))
    return SourceState(**values)


class Sources:
    """The sources table: one row per source the config has ever named."""

    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._db = connection.db

    def sync(self, configured: Iterable[tuple[str, str, str]]) -> bool:
        """Make the sources table match the config's (name, url, kind) triples; True
        when something changed. Writes only then, so an unchanged config costs a read.

        A source whose URL or kind changed starts afresh (validators, health, retirement);
        sources gone from the config keep their row so their items keep their name.
        """
        configured = list(configured)
        if not _unsynced(self._db, configured):
            return False
        with self._connection.transaction() as db:  # read again under the write lock
            for name, url, kind in _unsynced(db, configured):
                insert(db, "sources", _state_to_row(SourceState(name, url, kind)), replace=True)
        return True

    def states(self) -> dict[str, SourceState]:
        return {row["name"]: _state_from_row(row) for row in self._db["sources"].rows}

    def state(self, name: str) -> SourceState | None:
        rows = list(self._db["sources"].rows_where("name = ?", [name]))
        return _state_from_row(rows[0]) if rows else None

    def item_counts(self) -> dict[str, int]:
        """How many items each source has yielded, copies of other sources' items included."""
        sql = "SELECT source, count(DISTINCT item_id) FROM sightings GROUP BY source"
        return dict(self._db.execute(sql).fetchall())

    def yield_counts(self, since: str) -> dict[str, dict[str, Any]]:
        """Per source, its items first seen since `since` (`seen`, `accepted`,
        `rejected`, `duplicates`) and the newest it ever brought (`last_new`)."""
        sql = (
            "SELECT source, sum(first_seen >= :since), "
            "sum(first_seen >= :since AND status = 'accepted'), "
            "sum(first_seen >= :since AND status = 'rejected'), "
            "sum(first_seen >= :since AND status = 'duplicate'), max(first_seen) "
            "FROM items GROUP BY source"
        )
        names = ("seen", "accepted", "rejected", "duplicates", "last_new")
        return {
            row[0]: dict(zip(names, row[1:], strict=True))
            for row in self._db.execute(sql, {"since": since}).fetchall()
        }

    def weekly(self, now: str, weeks: int) -> dict[str, list[tuple[int, int, int]]]:
        """Per source, (weeks ago, new items, accepted items) for the last `weeks` weeks
        (by when each item was first seen; weeks with nothing left out)."""
        sql = (
            "SELECT source, CAST((julianday(:now) - julianday(first_seen)) / 7 AS INTEGER) AS ago, "
            "count(*), sum(status = 'accepted') FROM items "
            "WHERE julianday(first_seen) > julianday(:now) - 7 * :weeks "
            "GROUP BY source, ago"
        )
        found: dict[str, list[tuple[int, int, int]]] = {}
        for source, ago, new, accepted in self._db.execute(sql, {"now": now, "weeks": weeks}):
            found.setdefault(source, []).append((ago, new, accepted))
        return found

    def health(self) -> dict[str, Any]:
        """What /healthz reports of the sources: the last poll and how many fail."""
        sql = (
            "SELECT max(last_polled), sum(consecutive_failures > 0 OR retired_at IS NOT NULL) "
            "FROM sources"
        )
        last_poll, failing = self._db.execute(sql).fetchone()
        return {"last_poll": last_poll, "failing_sources": failing or 0}

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
        each other's health. Returns how many new items were stored.
        """
        with self._connection.transaction() as db:
            rows = list(db.query("SELECT * FROM sources WHERE name = ?", [name]))
            if not rows:
                raise StoreError(f"source {name!r} is not in the database")
            state = update(_state_from_row(rows[0]))
            new_items = add_entries(db, name, entries, now)
            insert(db, "sources", _state_to_row(state), replace=True)
        return new_items


def _unsynced(
    db: sqlite_utils.Database, configured: list[tuple[str, str, str]]
) -> list[tuple[str, str, str]]:
    """The configured (name, url, kind) triples the table does not hold as they are."""
    sql = "SELECT name, url, kind FROM sources"
    stored = {name: (url, kind) for name, url, kind in db.execute(sql)}
    return [(n, u, k) for n, u, k in configured if stored.get(n) != (u, k)]

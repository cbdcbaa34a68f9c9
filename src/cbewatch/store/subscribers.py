"""The subscriber list: one row per normalized address, its status (`pending` →
`confirmed` → `unsubscribed`, or `bounced`), its dates, and where its consent came from.
Addresses arrive here already validated and normalized (the service layer does that).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from typing import Any

from ..errors import StoreError
from ..model.times import to_iso, utc_now
from ..model.types import SUBSCRIBER_STATUSES, Subscriber
from .connection import Connection

_COLUMNS = (
    "id", "email", "status", "created", "name", "confirmed", "unsubscribed", "source",
    "bounces",
)  # fmt: skip


def _subscriber(row: dict[str, Any]) -> Subscriber:
    values = {name: row[name] for name in _COLUMNS}
    values["name"] = values["name"] or ""
    values["source"] = values["source"] or ""
    return Subscriber(**values)


class Subscribers:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._db = connection.db

    def get(self, subscriber_id: int) -> Subscriber | None:
        rows = list(self._db.query("SELECT * FROM subscribers WHERE id = ?", [subscriber_id]))
        return _subscriber(rows[0]) if rows else None

    def by_email(self, email: str) -> Subscriber | None:
        rows = list(self._db.query("SELECT * FROM subscribers WHERE email = ?", [email]))
        return _subscriber(rows[0]) if rows else None

    def find(self, status: str | None = None) -> list[Subscriber]:
        """Subscribers in the order they came, all or those with `status`."""
        sql, params = "SELECT * FROM subscribers", []
        if status:
            sql, params = sql + " WHERE status = ?", [status]
        return [_subscriber(row) for row in self._db.query(sql + " ORDER BY id", params)]

    def newest(self, limit: int, status: str | None = None) -> list[Subscriber]:
        """The `limit` most recent subscribers (newest first), all or those with `status`."""
        sql, params = "SELECT * FROM subscribers", []
        if status:
            sql, params = sql + " WHERE status = ?", [status]
        sql += " ORDER BY created DESC, id DESC LIMIT ?"
        return [_subscriber(row) for row in self._db.query(sql, [*params, limit])]

    def by_emails(self, emails: Iterable[str]) -> dict[str, Subscriber]:
        """The subscribers among `emails` (normalized addresses), by address."""
        wanted = list(dict.fromkeys(emails))
        found: dict[str, Subscriber] = {}
        for start in range(0, len(wanted), 500):  # under SQLite's limit on parameters
            chunk = wanted[start : start + 500]
            marks = ", ".join("?" * len(chunk))
            sql = f"SELECT * FROM subscribers WHERE email IN ({marks})"
            found.update((row["email"], _subscriber(row)) for row in self._db.query(sql, chunk))
        return found

    def counts(self) -> dict[str, int]:
        """How many subscribers have each status (every status named, 0 included)."""
        found = dict(
            self._db.execute("SELECT status, count(*) FROM subscribers GROUP BY status").fetchall()
        )
        return {status: found.get(status, 0) for status in SUBSCRIBER_STATUSES}

    def add(
        self, email: str, name: str = "", status: str = "pending", source: str = ""
    ) -> Subscriber:
        """A new subscriber; StoreError when the address is on the list already."""
        now = to_iso(utc_now())
        with self._connection.transaction() as db:
            try:
                cursor = db.execute(
                    "INSERT INTO subscribers (email, name, status, created, confirmed, source) "
                    "VALUES (?, ?, ?, ?, ?, ?)",
                    [email, name, status, now, now if status == "confirmed" else None, source],
                )
            except sqlite3.IntegrityError:
                raise StoreError(f"{email} is on the list already") from None
        found = self.get(cursor.lastrowid or 0)
        assert found is not None
        return found

    def set_status(self, subscriber_id: int, status: str, name: str | None = None) -> None:
        """Move a subscriber to `status`, stamping the date it has a column for."""
        if status not in SUBSCRIBER_STATUSES:
            raise ValueError(f"status must be one of {', '.join(SUBSCRIBER_STATUSES)}")
        stamp = {"confirmed": "confirmed", "unsubscribed": "unsubscribed"}.get(status)
        sets = ["status = ?"] + ([f"{stamp} = ?"] if stamp else [])
        params: list[Any] = [status] + ([to_iso(utc_now())] if stamp else [])
        if name is not None:
            sets.append("name = ?")
            params.append(name)
        with self._connection.transaction() as db:
            db.execute(
                f"UPDATE subscribers SET {', '.join(sets)} WHERE id = ?", [*params, subscriber_id]
            )

    def confirm(self, subscriber_id: int, source: str) -> None:
        """Confirmed as of now, with where the consent came from."""
        self._update(
            subscriber_id,
            status="confirmed",
            confirmed=to_iso(utc_now()),
            unsubscribed=None,
            source=source,
        )

    def resubscribe(self, subscriber_id: int, source: str, name: str | None = None) -> None:
        """Back to pending after an unsubscription (or a bounce): the old dates go, since
        they belonged to a consent that ended."""
        fields: dict[str, Any] = {"status": "pending", "confirmed": None, "unsubscribed": None}
        fields["source"] = source
        if name:
            fields["name"] = name
        self._update(subscriber_id, **fields)

    def set_name(self, subscriber_id: int, name: str) -> None:
        self._update(subscriber_id, name=name)

    def _update(self, subscriber_id: int, **fields: Any) -> None:
        unknown = set(fields) - set(_COLUMNS[1:])
        if unknown:
            raise ValueError(f"no such column: {', '.join(sorted(unknown))}")
        sets = ", ".join(f"{name} = ?" for name in fields)
        with self._connection.transaction() as db:
            db.execute(
                f"UPDATE subscribers SET {sets} WHERE id = ?", [*fields.values(), subscriber_id]
            )

    def import_rows(
        self,
        new: Sequence[tuple[str, str]],
        status: str,
        source: str,
        confirm: Iterable[int] = (),
        names: dict[int, str] | None = None,
    ) -> int:
        """An imported list in one transaction: `new` (address, name) rows added with
        `status`, the subscribers `confirm` names confirmed, `names` given to others.
        Returns how many rows were added: an address that another writer added meanwhile
        is skipped, not an error."""
        now = to_iso(utc_now())
        confirmed = now if status == "confirmed" else None
        added = 0
        with self._connection.transaction() as db:
            for email, name in new:
                added += db.execute(
                    "INSERT OR IGNORE INTO subscribers "
                    "(email, name, status, created, confirmed, source) VALUES (?, ?, ?, ?, ?, ?)",
                    [email, name, status, now, confirmed, source],
                ).rowcount
            for subscriber_id in confirm:
                # Only if still pending: one who unsubscribed since the plan was made stays so.
                db.execute(
                    "UPDATE subscribers SET status = 'confirmed', confirmed = ?, source = ? "
                    "WHERE id = ? AND status = 'pending'",
                    [now, source, subscriber_id],
                )
            for subscriber_id, name in (names or {}).items():
                db.execute("UPDATE subscribers SET name = ? WHERE id = ?", [name, subscriber_id])
        return added

    def remove(self, ids: Iterable[int]) -> int:
        """Forget subscribers (and their delivery rows); returns how many."""
        ids = list(ids)
        with self._connection.transaction() as db:
            removed = 0
            for subscriber_id in ids:
                db.execute("DELETE FROM deliveries WHERE subscriber_id = ?", [subscriber_id])
                removed += db.execute(
                    "DELETE FROM subscribers WHERE id = ?", [subscriber_id]
                ).rowcount
        return removed

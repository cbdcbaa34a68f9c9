"""The delivery ledger: one row per (issue month, subscriber), `queued` → `sending`
(committed before the SMTP DATA) → `sent` with the server's reply, or `failed` with the
reason; so a send that dies half-way is resumed without sending anyone the issue twice
(a row left in `sending` is in doubt) or skipping anyone.
"""

from __future__ import annotations

from typing import Any

import sqlite_utils

from ..model.times import to_iso, utc_now
from ..model.types import DELIVERY_STATUSES, Delivery
from .connection import Connection

# Hard bounces in a row (a 5xx for the recipient, issue after issue) that take an
# address off the list: one may be a passing misconfiguration, two are not.
BOUNCES_TO_REMOVE = 2


def _delivery(row: dict[str, Any]) -> Delivery:
    return Delivery(**{**row, "in_doubt": bool(row["in_doubt"])})


class Deliveries:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._db = connection.db

    def queue(self, month: str, revision: int) -> int:
        """Add a `queued` row for every confirmed subscriber the month has none for (one
        transaction); rows already there (sent, failed, in doubt) are left as they are.
        Returns how many were added."""
        with self._connection.transaction() as db:
            cursor = db.execute(
                "INSERT OR IGNORE INTO deliveries (month, subscriber_id, revision, email, "
                "status, updated) SELECT ?, id, ?, email, 'queued', ? FROM subscribers "
                "WHERE status = 'confirmed'",
                [month, revision, to_iso(utc_now())],
            )
        return cursor.rowcount

    def drop_unsubscribed(self, month: str) -> int:
        """Forget the queued rows of subscribers who are no longer confirmed (they left
        the list after the send began): an unsubscribed address gets no further issue."""
        with self._connection.transaction() as db:
            cursor = db.execute(
                "DELETE FROM deliveries WHERE month = ? AND status = 'queued' AND "
                "subscriber_id NOT IN (SELECT id FROM subscribers WHERE status = 'confirmed')",
                [month],
            )
        return cursor.rowcount

    def mark_in_doubt(self, month: str) -> int:
        """Rows a dead run left in `sending`: the server may or may not have the message.
        They go back to the queue flagged `in_doubt`, to be sent once more (the run's
        summary names them when they go). Returns how many."""
        with self._connection.transaction() as db:
            cursor = db.execute(
                "UPDATE deliveries SET status = 'queued', in_doubt = 1, updated = ? "
                "WHERE month = ? AND status = 'sending'",
                [to_iso(utc_now()), month],
            )
        return cursor.rowcount

    def queued(self, month: str, after: int = 0, limit: int = 200) -> list[Delivery]:
        """The next `limit` queued rows by subscriber id past `after` (a keyset, so a long
        list is read in slices and never held whole)."""
        sql = (
            "SELECT * FROM deliveries WHERE month = ? AND status = 'queued' "
            "AND subscriber_id > ? ORDER BY subscriber_id LIMIT ?"
        )
        return [_delivery(row) for row in self._db.query(sql, [month, after, limit])]

    def get(self, month: str, subscriber_id: int) -> Delivery | None:
        sql = "SELECT * FROM deliveries WHERE month = ? AND subscriber_id = ?"
        rows = list(self._db.query(sql, [month, subscriber_id]))
        return _delivery(rows[0]) if rows else None

    def find(self, month: str, status: str | None = None) -> list[Delivery]:
        sql, params = "SELECT * FROM deliveries WHERE month = ?", [month]
        if status:
            sql, params = sql + " AND status = ?", [*params, status]
        return [_delivery(row) for row in self._db.query(sql + " ORDER BY subscriber_id", params)]

    def sending(self, month: str, subscriber_id: int, revision: int) -> None:
        """Committed before the message's DATA: a crash from here on leaves the row in
        doubt rather than unsent."""
        self._set(month, subscriber_id, "sending", revision=revision, attempts_up=True)

    def sent(self, month: str, subscriber_id: int, reply: str) -> None:
        """The server took the message; a bounce streak of the subscriber ends."""
        with self._connection.transaction() as db:
            self._write(db, month, subscriber_id, "sent", reply=reply, error=None)
            db.execute("UPDATE subscribers SET bounces = 0 WHERE id = ?", [subscriber_id])

    def retry_later(
        self, month: str, subscriber_id: int, error: str, in_doubt: bool = False
    ) -> None:
        """A temporary refusal (4xx, a lost connection): queued again, with the reason;
        `in_doubt` when the message may have reached the server all the same."""
        extra = {"in_doubt": 1} if in_doubt else {}
        self._set(month, subscriber_id, "queued", error=error, **extra)

    def failed(self, month: str, subscriber_id: int, error: str, bounce: bool) -> bool:
        """A permanent refusal. With `bounce` (the server refused the recipient), the
        subscriber's streak grows, and at BOUNCES_TO_REMOVE they are marked `bounced`.
        Returns whether they were."""
        with self._connection.transaction() as db:
            self._write(db, month, subscriber_id, "failed", error=error)
            if not bounce:
                return False
            db.execute("UPDATE subscribers SET bounces = bounces + 1 WHERE id = ?", [subscriber_id])
            cursor = db.execute(
                "UPDATE subscribers SET status = 'bounced' WHERE id = ? AND bounces >= ? "
                "AND status = 'confirmed'",
                [subscriber_id, BOUNCES_TO_REMOVE],
            )
            return cursor.rowcount > 0

    def not_queued(self, month: str) -> int:
        """Confirmed subscribers the month's send has no row for (they joined since)."""
        sql = (
            "SELECT count(*) FROM subscribers WHERE status = 'confirmed' AND id NOT IN "
            "(SELECT subscriber_id FROM deliveries WHERE month = ?)"
        )
        return self._db.execute(sql, [month]).fetchone()[0]

    def counts(self, month: str) -> dict[str, int]:
        """How many of the month's rows have each status (every status named), and how
        many are `in_doubt` (re-sent, or waiting to be)."""
        found = dict(
            self._db.execute(
                "SELECT status, count(*) FROM deliveries WHERE month = ? GROUP BY status", [month]
            ).fetchall()
        )
        counts = {status: found.get(status, 0) for status in DELIVERY_STATUSES}
        counts["in_doubt"] = self._db.execute(
            "SELECT count(*) FROM deliveries WHERE month = ? AND in_doubt = 1", [month]
        ).fetchone()[0]
        return counts

    def _set(self, month: str, subscriber_id: int, status: str, **fields: Any) -> None:
        with self._connection.transaction() as db:
            self._write(db, month, subscriber_id, status, **fields)

    @staticmethod
    def _write(
        db: sqlite_utils.Database,
        month: str,
        subscriber_id: int,
        status: str,
        attempts_up: bool = False,
        **fields: Any,
    ) -> None:
        sets = ["status = ?", "updated = ?"] + [f"{name} = ?" for name in fields]
        if attempts_up:
            sets.append("attempts = attempts + 1")
        db.execute(
            f"UPDATE deliveries SET {', '.join(sets)} WHERE month = ? AND subscriber_id = ?",
            [status, to_iso(utc_now()), *fields.values(), month, subscriber_id],
        )

"""Curators' decisions and the audit log: a change to an item's status, topic or blurb
is written with the item's version bumped and one audit row, in one transaction; undo
puts back what the latest audited change replaced."""

from __future__ import annotations

import json
from typing import Any

import sqlite_utils

from ..errors import NoSuchItem, NothingToUndo, VersionConflict
from ..model.times import to_iso, utc_now
from ..model.types import DECISION_FIELDS, DECISION_STATUSES, AuditEntry, Changes, Item
from .connection import Connection
from .items import items_with_ids
from .sql import insert


class Decisions:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._db = connection.db

    def set(
        self,
        item_id: int,
        changes: Changes,
        who: str,
        expected_version: int | None = None,
        action: str = "decide",
    ) -> Item:
        """A curator's decision on one item: any of status, topic and blurb.

        With `expected_version` (what the curator saw), a change made meanwhile by
        someone else raises VersionConflict carrying the item as it is now. The web
        queue and `cbewatch triage` both decide through here.
        """
        unknown = set(changes) - set(DECISION_FIELDS)
        if unknown:
            raise ValueError(f"not a decision field: {', '.join(sorted(unknown))}")
        if changes.get("status", "new") not in DECISION_STATUSES:
            raise ValueError(f"status must be one of {', '.join(DECISION_STATUSES)}")
        with self._connection.transaction() as db:
            row = self._decidable_row(db, item_id, expected_version)
            _write(db, row, dict(changes), who, action)
        return self._item(item_id)

    def undo(self, item_id: int, who: str, expected_version: int | None = None) -> Item:
        """Put back what the item's latest audited change replaced (itself audited, so
        undoing twice redoes, and is logged as "redo"). Raises NothingToUndo when the
        item was never changed."""
        with self._connection.transaction() as db:
            row = self._decidable_row(db, item_id, expected_version)
            sql = "SELECT before, action FROM audit WHERE item_id = ? ORDER BY id DESC LIMIT 1"
            last = db.execute(sql, [item_id]).fetchone()
            if last is None:
                raise NothingToUndo(f"Item {item_id} has no decision to undo.")
            action = "redo" if last[1] == "undo" else "undo"
            _write(db, row, json.loads(last[0]), who, action)
        return self._item(item_id)

    def audit_log(self, item_id: int) -> list[AuditEntry]:
        """Who changed the item, how and when, newest first."""
        sql = "SELECT * FROM audit WHERE item_id = ? ORDER BY id DESC"
        return [
            AuditEntry(
                id=row["id"],
                item_id=row["item_id"],
                at=row["at"],
                who=row["who"],
                action=row["action"],
                before=json.loads(row["before"] or "{}"),
                after=json.loads(row["after"] or "{}"),
            )
            for row in self._db.query(sql, [item_id])
        ]

    def _item(self, item_id: int) -> Item:
        return items_with_ids(self._db, [item_id])[item_id]  # items are never deleted

    def _decidable_row(
        self, db: sqlite_utils.Database, item_id: int, expected_version: int | None
    ) -> dict[str, Any]:
        rows = list(db.query("SELECT * FROM items WHERE id = ?", [item_id]))
        if not rows:
            raise NoSuchItem(f"there is no item {item_id}")
        row = rows[0]
        if expected_version is not None and row["version"] != expected_version:
            last = self.audit_log(item_id)[:1]
            raise VersionConflict(item_id, self._item(item_id), last[0] if last else None)
        return row


def _write(
    db: sqlite_utils.Database, row: dict[str, Any], changes: dict[str, Any], who: str, action: str
) -> None:
    before = {name: row[name] for name in changes}
    sets = ", ".join(f"{name} = ?" for name in changes)
    db.execute(
        f"UPDATE items SET {sets}, version = version + 1 WHERE id = ?",
        [*changes.values(), row["id"]],
    )
    insert(
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

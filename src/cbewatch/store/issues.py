"""Monthly issues: every revision of a month's issue, stored whole as one JSON document
(its sections and entries in the curators' order), and `issue_items`, which month's issue
holds each item, so an item is in one issue at most. A save checks the version the
curator saw, as the queue does, and writes the revision and its items in one transaction.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import asdict, replace
from typing import Any

import sqlite_utils

from ..errors import IssueConflict, IssueError
from ..model.times import to_iso, utc_now
from ..model.types import Issue, IssueEntry, IssueSection
from .connection import Connection

PUBLISHED = ("approved", "sent")
_BODY_FIELDS = ("title", "intro", "closing", "author")


def _to_body(issue: Issue) -> str:
    body: dict[str, Any] = {name: getattr(issue, name) for name in _BODY_FIELDS}
    body["sections"] = [
        {"name": s.name, "entries": [asdict(e) for e in s.entries]} for s in issue.sections
    ]
    return json.dumps(body, ensure_ascii=False)


def _from_row(row: dict[str, Any]) -> Issue:
    body = json.loads(row["body"])
    sections = tuple(
        IssueSection(s["name"], tuple(IssueEntry(**e) for e in s["entries"]))
        for s in body["sections"]
    )
    return Issue(
        month=row["month"],
        sections=sections,
        status=row["status"],
        revision=row["revision"],
        version=row["version"],
        updated=row["updated"],
        approved_at=row["approved_at"],
        sent_at=row["sent_at"],
        **{name: body[name] for name in _BODY_FIELDS},
    )


class Issues:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._db = connection.db

    def latest(self, month: str) -> Issue | None:
        """The newest revision of the month's issue (the one curators edit), or None."""
        sql = "SELECT * FROM issues WHERE month = ? ORDER BY revision DESC LIMIT 1"
        rows = list(self._db.query(sql, [month]))
        return _from_row(rows[0]) if rows else None

    def revision(self, month: str, revision: int) -> Issue | None:
        sql = "SELECT * FROM issues WHERE month = ? AND revision = ?"
        rows = list(self._db.query(sql, [month, revision]))
        return _from_row(rows[0]) if rows else None

    def published(self, month: str | None = None) -> list[Issue]:
        """Each month's newest approved or sent revision (what the archive shows), newest
        month first; only `month`'s with one given."""
        sql = (
            "SELECT * FROM issues i WHERE status IN ('approved', 'sent') AND revision = ("
            "SELECT max(revision) FROM issues j WHERE j.month = i.month "
            "AND j.status IN ('approved', 'sent'))"
        )
        params: list[Any] = []
        if month is not None:
            sql += " AND month = ?"
            params.append(month)
        return [_from_row(row) for row in self._db.query(sql + " ORDER BY month DESC", params)]

    def months(self) -> list[tuple[str, str, int]]:
        """(month, status, revision) of every month's newest revision, newest first."""
        sql = (
            "SELECT month, status, revision FROM issues i WHERE revision = "
            "(SELECT max(revision) FROM issues j WHERE j.month = i.month) ORDER BY month DESC"
        )
        return [tuple(row) for row in self._db.execute(sql).fetchall()]

    def used_items(self, except_month: str | None = None) -> set[int]:
        """Ids of the items some issue holds (leaving out `except_month`'s)."""
        sql = "SELECT item_id FROM issue_items WHERE month IS NOT ?"
        return {row[0] for row in self._db.execute(sql, [except_month]).fetchall()}

    def add(self, issue: Issue) -> Issue:
        """Store a new revision (the first of a month, or the next after an approved one)."""
        stored = replace(issue, version=1, updated=to_iso(utc_now()))
        with self._connection.transaction() as db:
            try:
                db.execute(
                    "INSERT INTO issues (month, revision, status, version, body, updated, "
                    "approved_at, sent_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [stored.month, stored.revision, stored.status, 1, _to_body(stored),
                     stored.updated, stored.approved_at, stored.sent_at],
                )  # fmt: skip
            except sqlite3.IntegrityError:
                raise IssueError(
                    f"the {issue.month} issue has a revision {issue.revision} already"
                ) from None
            _claim_items(db, stored.month)
        return stored

    def save(self, issue: Issue, expected_version: int | None) -> Issue:
        """Write a changed revision. With `expected_version` (what the curator saw), a
        change made meanwhile raises IssueConflict carrying the issue as it is now."""
        with self._connection.transaction() as db:
            sql = "SELECT * FROM issues WHERE month = ? AND revision = ?"
            rows = list(db.query(sql, [issue.month, issue.revision]))
            if not rows:
                raise IssueError(f"there is no {issue.month} issue revision {issue.revision}")
            current = _from_row(rows[0])
            if expected_version is not None and current.version != expected_version:
                raise IssueConflict(current)
            saved = replace(issue, version=current.version + 1, updated=to_iso(utc_now()))
            db.execute(
                "UPDATE issues SET status = ?, version = ?, body = ?, updated = ?, "
                "approved_at = ?, sent_at = ? WHERE month = ? AND revision = ?",
                [saved.status, saved.version, _to_body(saved), saved.updated,
                 saved.approved_at, saved.sent_at, saved.month, saved.revision],
            )  # fmt: skip
            _claim_items(db, saved.month)
        return saved


def _claim_items(db: sqlite_utils.Database, month: str) -> None:
    """Record which items the month's issue holds: every item of any of its revisions.
    An item another month's issue holds already is refused (the transaction rolls back)."""
    ids: set[int] = set()
    for (body,) in db.execute("SELECT body FROM issues WHERE month = ?", [month]).fetchall():
        for section in json.loads(body)["sections"]:
            ids.update(e["item_id"] for e in section["entries"] if e.get("item_id") is not None)
    db.execute("DELETE FROM issue_items WHERE month = ?", [month])
    for item_id in sorted(ids):
        try:
            db.execute("INSERT INTO issue_items (item_id, month) VALUES (?, ?)", [item_id, month])
        except sqlite3.IntegrityError:
            row = db.execute("SELECT month FROM issue_items WHERE item_id = ?", [item_id])
            other = row.fetchone()
            where = f"the {other[0]} issue" if other else "no item of that id"
            raise IssueError(f"item {item_id} is in {where} already") from None

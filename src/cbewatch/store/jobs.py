"""The scheduler's job runs (one row a run: started, finished, outcome, detail), the
database's backups, and the health check that reads the file afresh."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from datetime import datetime
from pathlib import Path
from typing import Any

from ..errors import StoreError
from ..model.times import to_iso, utc_now
from .connection import Connection
from .sql import insert


class Jobs:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._db = connection.db

    def start(self, job: str) -> int:
        with self._connection.transaction() as db:
            return insert(db, "job_runs", {"job": job, "started": to_iso(utc_now())})

    def finish(self, run_id: int, outcome: str, detail: str = "") -> None:
        with self._connection.transaction() as db:
            db.execute(
                "UPDATE job_runs SET finished = ?, outcome = ?, detail = ? WHERE id = ?",
                [to_iso(utc_now()), outcome, detail, run_id],
            )

    def recent(self, limit: int = 10) -> list[dict[str, Any]]:
        sql = f"SELECT * FROM job_runs ORDER BY id DESC LIMIT {int(limit)}"
        return list(self._db.query(sql))

    def prune(self, before: datetime) -> int:
        """Forget job runs that started before `before`; returns how many."""
        with self._connection.transaction() as db:
            cursor = db.execute("DELETE FROM job_runs WHERE started < ?", [to_iso(before)])
            return cursor.rowcount

    def optimize(self) -> None:
        """Fresh statistics for SQLite's query planner (`sqlite_stat1`): which index
        answers the queue's filters and searches depends on them. SQLite 3.46 and later
        check every table (`PRAGMA optimize=0x10002`, analyzing only those that grew);
        before 3.46 `PRAGMA optimize` looks only at tables this connection has queried,
        none on a fresh one, so there it is a whole ANALYZE (0.2 s at 100,000 items)."""
        if sqlite3.sqlite_version_info >= (3, 46):
            self._db.execute("PRAGMA optimize=0x10002")
        else:
            self._db.execute("ANALYZE")

    def analyzed_items(self) -> int | None:
        """How many items the query planner's statistics counted; None before the first
        ANALYZE or optimize."""
        sql = "SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'"
        if self._db.execute(sql).fetchone() is None:
            return None
        sql = "SELECT stat FROM sqlite_stat1 WHERE tbl = 'items' AND idx IS NOT NULL LIMIT 1"
        row = self._db.execute(sql).fetchone()
        return int(row[0].split()[0]) if row else 0  # "rows, rows per key, …"

    def backup_to(self, target: Path) -> None:
        """A consistent, compact copy of the database at `target` (VACUUM INTO), safe
        while others write: never a file copy of a WAL database. Written beside the
        target first, so a crash never leaves half a backup under its name."""
        target = Path(target)
        target.parent.mkdir(parents=True, exist_ok=True)
        partial = target.with_name(target.name + ".partial")
        partial.unlink(missing_ok=True)
        try:
            self._db.execute("VACUUM INTO ?", [str(partial)])
        except sqlite3.Error as exc:
            partial.unlink(missing_ok=True)
            raise StoreError(f"{target}: the backup failed ({exc})") from None
        partial.replace(target)

    def file_problem(self) -> str | None:
        """None when the database file reads afresh (its header and schema), else the
        kind of error (e.g. "DatabaseError"): the long-lived connection answers from its
        page cache even after the file on disk went bad."""
        path = self._connection.path
        try:
            with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
                db.execute("SELECT count(*) FROM sqlite_schema").fetchone()
        except sqlite3.Error as exc:
            return type(exc).__name__
        return None


def backup_schema(path: Path) -> int:
    """The schema version of a cbewatch database file (a backup), read without changing
    it; StoreError when it is not one."""
    try:
        with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_schema")}
    except sqlite3.Error as exc:
        raise StoreError(f"{path} is not a cbewatch database ({exc})") from None
    if not version or "items" not in tables:
        raise StoreError(f"{path} is not a cbewatch database (no items table)")
    return version


def copy_database(source: Path, target: Path) -> None:
    """A whole copy of the database `source` at `target` (SQLite's backup API, then a
    rename: a crash never leaves half a database under `target`'s name)."""
    partial = target.with_name(target.name + ".partial")
    partial.unlink(missing_ok=True)
    try:
        uri = f"{source.resolve().as_uri()}?mode=ro"
        with (
            closing(sqlite3.connect(uri, uri=True)) as src,
            closing(sqlite3.connect(partial)) as dst,
        ):
            src.backup(dst)
    except sqlite3.Error as exc:
        partial.unlink(missing_ok=True)
        raise StoreError(f"{source} could not be copied ({exc})") from None
    for stale in (target.with_name(target.name + "-wal"), target.with_name(target.name + "-shm")):
        stale.unlink(missing_ok=True)  # the old database's journal must not replay on the new
    partial.replace(target)

"""One SQLite connection to the database file: WAL mode, a busy timeout, foreign keys,
upgraded to the current schema on open; writes go through `transaction()`.

Writers take `BEGIN IMMEDIATE`, so what belongs together commits as a whole and two
commands never interleave half-writes; readers are never blocked (WAL).
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlite_utils

from ..errors import StoreError
from .migrations import MIGRATIONS, SCHEMA_VERSION

BUSY_TIMEOUT_MS = 15_000


class Connection:
    """An open, upgraded database; `db` is its sqlite-utils handle."""

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

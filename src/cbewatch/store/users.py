"""Curator accounts and their sessions: a name, an argon2id hash (never a password), and
a session generation that logging out or a new password bumps, ending every session
made before."""

from __future__ import annotations

from ..model.times import to_iso, utc_now
from ..model.types import Curator
from .connection import Connection
from .sql import insert


class Users:
    def __init__(self, connection: Connection) -> None:
        self._connection = connection
        self._db = connection.db

    def save(self, name: str, password_hash: str) -> bool:
        """Create a curator account, or set a new password and end the account's
        sessions (whoever knew the old one is logged out); True when it is new."""
        with self._connection.transaction() as db:
            known = db.execute("SELECT 1 FROM users WHERE name = ?", [name]).fetchone()
            if known:
                db.execute(
                    "UPDATE users SET password_hash = ?, "
                    "session_generation = session_generation + 1 WHERE name = ?",
                    [password_hash, name],
                )
            else:
                row = {"name": name, "password_hash": password_hash, "created": to_iso(utc_now())}
                insert(db, "users", row)
        return known is None

    def all(self) -> list[Curator]:
        rows = self._db.execute("SELECT name, created FROM users ORDER BY name").fetchall()
        return [Curator(name, created) for name, created in rows]

    def remove(self, name: str) -> bool:
        """Forget the account (a session of it names no user any more); True if it was."""
        with self._connection.transaction() as db:
            return db.execute("DELETE FROM users WHERE name = ?", [name]).rowcount > 0

    def password_hash(self, name: str) -> str | None:
        row = self._db.execute("SELECT password_hash FROM users WHERE name = ?", [name]).fetchone()
        return row[0] if row else None

    def session_generation(self, name: str) -> int | None:
        """The generation a session of `name` must carry to be valid; None for no such
        user. Asked on every request: one primary-key lookup."""
        sql = "SELECT session_generation FROM users WHERE name = ?"
        row = self._db.execute(sql, [name]).fetchone()
        return row[0] if row else None

    def end_sessions(self, name: str) -> None:
        """Refuse every session of `name` made until now (logout)."""
        with self._connection.transaction() as db:
            db.execute(
                "UPDATE users SET session_generation = session_generation + 1 WHERE name = ?",
                [name],
            )

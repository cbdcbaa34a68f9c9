"""Small helpers every table module shares: placeholders, a plain INSERT, and lookups
by id in chunks that stay under SQLite's limit on bound parameters."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any

import sqlite_utils

CHUNK = 500  # ids per statement: SQLite allows 999 bound parameters in older builds


def marks(values: list[Any]) -> str:
    return ",".join("?" * len(values))


def chunks(values: Iterable[Any]) -> Iterator[list[Any]]:
    values = list(values)
    for start in range(0, len(values), CHUNK):
        yield values[start : start + CHUNK]


def insert(
    db: sqlite_utils.Database, table: str, row: dict[str, Any], replace: bool = False
) -> int:
    """A plain INSERT: sqlite-utils' insert() inspects the table on every call, which
    costs more than the write itself on the polling path."""
    verb = "INSERT OR REPLACE" if replace else "INSERT"
    names = ", ".join(row)
    cursor = db.execute(
        f"{verb} INTO {table} ({names}) VALUES ({marks(list(row))})", list(row.values())
    )
    return cursor.lastrowid or 0


def by_id(db: sqlite_utils.Database, column: str, ids: Iterable[int]) -> dict[int, Any]:
    """id → `column` (an SQL expression of ours, never input) for the items `ids`."""
    found: dict[int, Any] = {}
    for chunk in chunks(ids):
        sql = f"SELECT id, {column} FROM items WHERE id IN ({marks(chunk)})"
        found.update(db.execute(sql, chunk).fetchall())
    return found

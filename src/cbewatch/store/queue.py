"""The curators' queue as queries: pages by keyset (best score first, then newest), its
filters and full-text search, and the values its filters offer. Read-only."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..model.types import Item, QueueCursor, QueueQuery
from .connection import Connection
from .items import items_with_ids

SEARCH_WALK_PAGES = 10  # see Queue._many_matches


class Queue:
    def __init__(self, connection: Connection) -> None:
        self._db = connection.db

    def page(
        self, query: QueueQuery, after: QueueCursor | None = None, limit: int = 50
    ) -> tuple[list[Item], QueueCursor | None]:
        """One page of the queue, best first (score, then newest), and the cursor of the
        next page (None on the last). Keyset pagination: no OFFSET, so page 200 costs
        what page 1 does."""
        where, params = _filters(query, self._many_matches(query, limit))
        if after is not None:
            # The queue's order: best score first, unranked items last, then newest.
            where.append("(queue_rank, published, id) < (?, ?, ?)")
            params += [after.rank, after.published, after.id]
        # First the page's keys alone (the indexes hold them), then its rows: a search
        # matching thousands of items sorts their keys, not their texts.
        sql = "SELECT id, queue_rank, published FROM items"
        if where:
            sql += " WHERE " + " AND ".join(where)
        sql += f" ORDER BY queue_rank DESC, published DESC, id DESC LIMIT {int(limit) + 1}"
        keys = self._db.execute(sql, params).fetchall()
        more = len(keys) > limit
        keys = keys[:limit]
        found = items_with_ids(self._db, [key[0] for key in keys])
        page = [found[key[0]] for key in keys if key[0] in found]
        cursor = QueueCursor(keys[-1][1], keys[-1][2], keys[-1][0]) if more else None
        return page, cursor

    def count(self, query: QueueQuery, limit: int) -> int:
        """How many items the filters match on every page together, counted no further
        than `limit`. A full count walks every match: 9 ms for 100,000 new items, 85 ms
        for a word in most of them, where the counted one stays under 2 ms."""
        where, params = _filters(replace(query, search=None))
        rows = "items"
        match = fts_query(query.search or "")
        if match:
            # Driven by the search's matches: CROSS JOIN keeps the full-text table the
            # outer loop (a plain join let SQLite walk the items and ask the index for
            # each: 1.9 s at 100,000 items; `id IN (…)` builds the list of every match).
            rows = "items_fts CROSS JOIN items ON items.id = items_fts.rowid"
            where.append("items_fts MATCH ?")
            params.append(match)
        inner = f"SELECT 1 FROM {rows}" + (" WHERE " + " AND ".join(where) if where else "")
        sql = f"SELECT count(*) FROM ({inner} LIMIT {int(limit)})"
        return self._db.execute(sql, params).fetchone()[0]

    def _many_matches(self, query: QueueQuery, limit: int) -> bool:
        """Whether a search matches so many items that walking the queue's order and
        keeping the matches beats sorting every match (counting them is cheap). Ten
        pages' worth: a word in 1% of 100,000 items is found faster walking (the search
        page's growth from 1k to 100k items in bench/queue.py: ×1.83, against ×2.2 when
        more than twenty pages' worth were needed)."""
        match = fts_query(query.search or "")
        if not match:
            return False
        sql = "SELECT count(*) FROM items_fts WHERE items_fts MATCH ?"
        return self._db.execute(sql, [match]).fetchone()[0] > SEARCH_WALK_PAGES * limit

    def choices(self) -> dict[str, list[str]]:
        """The values the queue's filters offer: every source, and every month from the
        oldest item's to the newest's (read from indexes: cheap at any size)."""
        sources = [row[0] for row in self._db.execute("SELECT name FROM sources ORDER BY name")]
        # Two statements: SQLite reads a lone min() or max() off the index, not a pair.
        oldest = self._db.execute("SELECT min(published) FROM items").fetchone()[0]
        newest = self._db.execute("SELECT max(published) FROM items").fetchone()[0]
        return {"sources": sources, "months": months_between(oldest, newest)}

    def accepted_by_topic(self, month: str) -> dict[str, int]:
        """How many items published in `month` (YYYY-MM) were accepted, per topic."""
        sql = (
            "SELECT topic, count(*) FROM items WHERE status = 'accepted' "
            "AND published >= ? AND published < ? GROUP BY topic"
        )
        return dict(self._db.execute(sql, [month, month + "~"]).fetchall())


def _filters(query: QueueQuery, many_matches: bool = False) -> tuple[list[str], list[Any]]:
    where: list[str] = []
    params: list[Any] = []
    for column in ("status", "source", "topic"):
        value = getattr(query, column)
        if value:
            where.append(f"{column} = ?")
            params.append(value)
    if query.month:
        where.append("published >= ? AND published < ?")
        params += [query.month, query.month + "~"]  # every "YYYY-MM…" sorts between
    match = fts_query(query.search or "")
    if match:
        # `+id` keeps SQLite from driving the query by the matches' rowids, so it walks an
        # index in the queue's order instead: fast when most items match.
        column = "+id" if many_matches else "id"
        where.append(f"{column} IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)")
        params.append(match)
    return where, params


def months_between(oldest: str | None, newest: str | None) -> list[str]:
    """ "YYYY-MM" of every month from newest back to oldest (ISO dates or None)."""
    if not oldest or not newest:
        return []
    year, month = int(newest[:4]), int(newest[5:7])
    end = (int(oldest[:4]), int(oldest[5:7]))
    months = []
    while (year, month) >= end and len(months) < 1200:
        months.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return months


def fts_query(text: str) -> str:
    """A curator's words as an FTS5 query: every word must appear, in any form the
    stemmer joins (grade, grades, grading); quotes keep FTS5 operators in the input
    from meaning anything."""
    text = "".join(c for c in text if c.isprintable() or c.isspace())  # FTS5 chokes on NUL
    words = [w.replace('"', "") for w in text.split()]
    return " ".join(f'"{w}"' for w in words if w)

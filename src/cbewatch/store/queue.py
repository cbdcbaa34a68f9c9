"""The curators' queue as queries: pages by keyset (best score first, then newest), its
filters and full-text search, and the values its filters offer. Read-only."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from ..model.types import Item, QueueCursor, QueueQuery
from .connection import Connection
from .items import items_with_ids

SEARCH_PROBE = 1000  # matches read (newest first) to choose a search's plan
# What each plan costs a row, relative to listing one match (measured at 100,000 items
# in bench/queue.py: sorting a match's keys ~0.6 µs, a list entry and a walked row
# ~0.25 µs, a row asked of the full-text index ~20 µs). See Queue._search_plan.
COST_SORT, COST_LIST, COST_WALK, COST_TEST = 2.5, 1.0, 1.0, 80.0


class Queue:
    def __init__(self, connection: Connection) -> None:
        self._db = connection.db

    def page(
        self, query: QueueQuery, after: QueueCursor | None = None, limit: int = 50
    ) -> tuple[list[Item], QueueCursor | None]:
        """One page of the queue, best first (score, then newest), and the cursor of the
        next page (None on the last). Keyset pagination: no OFFSET, so page 200 costs
        what page 1 does; a search costs what its plan bounds (see `_search_plan`)."""
        plan = self._search_plan(query, limit)
        where, params = _filters(query, plan)
        if after is not None:
            # The queue's order: best score first, unranked items last, then newest.
            where.append("(queue_rank, published, id) < (?, ?, ?)")
            params += [after.rank, after.published, after.id]
        # First the page's keys alone (the indexes hold them), then its rows: a search
        # matching thousands of items sorts their keys, not their texts. Named, as the
        # planner ties it with the rows' own b-tree (same one row per id) and took that.
        rows = "items INDEXED BY items_search_keys" if plan == "sort" else "items"
        sql = f"SELECT id, queue_rank, published FROM {rows}"
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

    def _search_plan(self, query: QueueQuery, limit: int) -> str | None:
        """How a search finds its page, chosen by a cost read in bounded time: "sort"
        (every match's keys, sorted: cost grows with the matches), "list" (walk the
        queue's order, looking each row up in the list of every match: the list costs
        what the matches number, the walk what their rarity does), or "test" (walk the
        queue's order and ask the full-text index about each row: dear per row, so only
        when matches are dense and the walk short). The newest SEARCH_PROBE matches and
        their lowest rowid tell how many match and how dense they are, never reading
        more (and the oldest ones too, the sparser end counting: a word only the newest
        items use must not pass for one in every item); None when there is no search."""
        match = fts_query(query.search or "")
        if not match:
            return None
        probe = (
            "SELECT count(*), min(rowid), max(rowid) FROM (SELECT rowid FROM items_fts "
            "WHERE items_fts MATCH ? ORDER BY rowid {} LIMIT ?)"
        )
        probed, lowest, _ = self._db.execute(probe.format("DESC"), [match, SEARCH_PROBE]).fetchone()
        newest = self._db.execute("SELECT max(id) FROM items").fetchone()[0] or 1
        if probed < SEARCH_PROBE:
            matches = float(probed)  # every match was read: the count is exact
        else:
            _, _, highest = self._db.execute(probe.format("ASC"), [match, SEARCH_PROBE]).fetchone()
            span = max(newest - lowest + 1, highest)  # ids the two ends' matches spread over
            matches = probed * newest / span
        walked = (limit + 1) * newest / max(matches, 1.0)  # rows walked to fill a page
        costs = {
            "sort": matches * COST_SORT,
            "list": matches * COST_LIST + walked * COST_WALK,
            "test": walked * COST_TEST,
        }
        return min(costs, key=costs.__getitem__)

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


def _filters(query: QueueQuery, plan: str | None = None) -> tuple[list[str], list[Any]]:
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
        where.append(SEARCH_WHERE[plan or "sort"])
        params.append(match)
    return where, params


# A search's condition in each plan (Queue._search_plan). `+id` keeps SQLite from driving
# the query by the matches' rowids, so it walks an index in the queue's order instead.
SEARCH_WHERE = {
    "sort": "id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)",
    "list": "+id IN (SELECT rowid FROM items_fts WHERE items_fts MATCH ?)",
    "test": "EXISTS (SELECT 1 FROM items_fts WHERE items_fts MATCH ? AND rowid = items.id)",
}


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

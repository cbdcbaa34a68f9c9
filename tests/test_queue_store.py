"""The queue's store functions on a real SQLite file: keyset pages, filters, search,
decisions with the version check, undo, the audit log, backups, and the upgrade from
schema 1."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlite_utils

from cbewatch.errors import NothingToUndo, VersionConflict
from cbewatch.model.types import Entry, QueueCursor, QueueQuery
from cbewatch.services.upkeep import LARGE_FETCH, optimize_after_fetch, rotate_backups
from cbewatch.store import MIGRATIONS, Store
from cbewatch.store.queue import fts_query, months_between

NOW = datetime(2026, 11, 23, tzinfo=UTC)


def entry(n: int, title: str, month: int = 11) -> Entry:
    return Entry(
        url=f"https://alder.example.org/{n}",
        title=title,
        summary_text=f"Summary {n}",
        published=datetime(2026, month, 1 + n % 28, n % 24, tzinfo=UTC),
    )


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "cbewatch.db")
    s.sources.sync([("Alder", "https://alder.example.org/feed", "feed"), ("Bramble", "b", "feed")])
    alder = [entry(n, f"Grading pilot {n}", 10 + n % 2) for n in range(30)]
    s.sources.record_poll("Alder", alder, NOW)
    bramble = [Entry(url="https://bramble.example.org/x", title="Learner agency in early grades")]
    s.sources.record_poll("Bramble", bramble, NOW)
    return s


def all_pages(store: Store, query: QueueQuery, size: int) -> list[int]:
    ids, after = [], None
    while True:
        page, after = store.queue.page(query, after, size)
        ids += [item.id for item in page]
        if after is None:
            return ids


def test_keyset_pages_cover_every_item_once_newest_first(store: Store) -> None:
    ids = all_pages(store, QueueQuery(), 7)
    assert sorted(ids) == list(range(1, 32)) and len(ids) == 31
    dates = [store.items.get(i).published for i in ids]
    assert dates == sorted(dates, reverse=True)


def test_scored_items_come_first_best_first(store: Store) -> None:
    store.db.execute("UPDATE items SET score = id * 0.1 WHERE id IN (3, 5)")
    assert all_pages(store, QueueQuery(), 4)[:2] == [5, 3]


def test_a_cursor_survives_its_token() -> None:
    cursor = QueueCursor(-1e300, "2026-11-01T00:00:00Z", 12)
    assert QueueCursor.from_token(cursor.token()) == cursor
    assert QueueCursor.from_token("garbage") is None


@pytest.mark.parametrize(
    ("query", "count"),
    [
        (QueueQuery(source="Bramble"), 1),
        (QueueQuery(month="2026-10"), 15),
        (QueueQuery(search="grading pilot"), 30),
        (QueueQuery(search="grade"), 31),  # stemmed: grades, grading
        (QueueQuery(search="agency"), 1),
        (QueueQuery(search='pilot" OR "x'), 0),  # FTS5 syntax in the input means nothing
        (QueueQuery(search="NEAR( AND *"), 0),
        (QueueQuery(status="accepted"), 0),
        (QueueQuery(status=None), 31),
    ],
)
def test_filters(store: Store, query: QueueQuery, count: int) -> None:
    assert len(all_pages(store, query, 50)) == count
    # The queue's "N items in view" counts the same items, up to the limit it is given.
    assert store.queue.count(query, 1000) == count
    assert store.queue.count(query, 10) == min(count, 10)


def test_fts_query_quotes_every_word() -> None:
    assert fts_query(' mastery  "based" ') == '"mastery" "based"'
    assert fts_query("   ") == ""


def test_a_decision_bumps_the_version_and_is_audited(store: Store) -> None:
    item = store.decisions.set(1, {"status": "accepted", "topic": "Equity"}, "ann", 1, "accept")
    assert (item.status, item.topic, item.version) == ("accepted", "Equity", 2)
    [row] = store.decisions.audit_log(1)
    assert row.who == "ann" and row.action == "accept"
    assert row.before == {"status": "new", "topic": None}
    assert row.after == {"status": "accepted", "topic": "Equity"}
    assert len(all_pages(store, QueueQuery(search="grading"), 50)) == 30  # index untouched


def test_a_stale_version_is_refused_with_the_current_state(store: Store) -> None:
    store.decisions.set(2, {"status": "accepted"}, "ann", 1)
    with pytest.raises(VersionConflict) as refused:
        store.decisions.set(2, {"status": "rejected"}, "bob", 1)
    assert refused.value.current.status == "accepted"
    assert "changed by ann" in str(refused.value)
    assert store.items.get(2).status == "accepted"
    assert len(store.decisions.audit_log(2)) == 1


def test_undo_puts_back_the_last_change_and_twice_redoes(store: Store) -> None:
    with pytest.raises(NothingToUndo) as nothing:
        store.decisions.undo(3, "ann")
    # One sentence: the queue shows it followed by "Now: new."
    assert str(nothing.value) == "Item 3 has no decision to undo."
    store.decisions.set(3, {"blurb": "A pilot."}, "ann")
    store.decisions.set(3, {"status": "rejected"}, "ann")
    assert store.decisions.undo(3, "ann").status == "new"
    assert store.decisions.undo(3, "ann").status == "rejected"
    assert store.decisions.undo(3, "ann").status == "new"
    assert store.items.get(3).blurb == "A pilot."
    # The second undo put the decision back: the log says so.
    assert [r.action for r in store.decisions.audit_log(3)] == [
        "undo",
        "redo",
        "undo",
        "decide",
        "decide",
    ]


def test_bad_decisions_are_refused(store: Store) -> None:
    with pytest.raises(ValueError):
        store.decisions.set(1, {"status": "duplicate"}, "ann")
    with pytest.raises(ValueError):
        store.decisions.set(1, {"title": "x"}, "ann")


def test_backups_are_whole_databases_and_seven_are_kept(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "backups"
    for day in range(1, 10):
        store.jobs.backup_to(folder / f"cbewatch-202611{day:02d}T030000.db")
    deleted = rotate_backups(folder)
    kept = sorted(p.name for p in folder.iterdir())
    assert len(deleted) == 2 and len(kept) == 7 and kept[0] == "cbewatch-20261103T030000.db"
    conn = sqlite3.connect(folder / kept[-1])
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 31


def test_a_schema_1_database_upgrades_with_its_items_searchable(tmp_path: Path) -> None:
    path = tmp_path / "old.db"
    db = sqlite_utils.Database(path)
    MIGRATIONS[0](db)
    db.execute("PRAGMA user_version = 1")
    db["items"].insert(
        {
            "url": "u",
            "canonical_url": "u",
            "title": "Mastery grading",
            "source": "Alder",
            "status": "new",
            "first_seen": "2026-11-01T00:00:00Z",
            "published": "2026-11-01",
        }
    )
    db.conn.commit()
    db.close()
    with Store(path) as store:
        page, _ = store.queue.page(QueueQuery(search="mastery"))
        assert [item.title for item in page] == ["Mastery grading"]


def test_filter_choices_come_from_indexes(store: Store) -> None:
    choices = store.queue.choices()
    assert choices["sources"] == ["Alder", "Bramble"]
    assert choices["months"][-1] == "2026-10" and "2026-11" in choices["months"]


@pytest.mark.parametrize(
    ("oldest", "newest", "months"),
    [
        (
            "2025-11-30T00:00:00Z",
            "2026-02-01T00:00:00Z",
            ["2026-02", "2026-01", "2025-12", "2025-11"],
        ),
        ("2026-03-01", "2026-03-09", ["2026-03"]),
        (None, None, []),
    ],
)
def test_months_between(oldest: str | None, newest: str | None, months: list[str]) -> None:
    assert months_between(oldest, newest) == months


def test_a_search_matching_most_items_pages_the_same_way(store: Store) -> None:
    # With pages of one, 30 matches count as "most items": the index-walking plan.
    assert all_pages(store, QueueQuery(search="pilot"), 1) == all_pages(
        store, QueueQuery(search="pilot"), 50
    )
    assert len(all_pages(store, QueueQuery(search="pilot"), 1)) == 30


def test_every_search_plan_pages_in_the_queue_order(store: Store) -> None:
    # 200 items with "mastery" beside the fixture's 31 without: dense matches. Pages of
    # one walk the queue asking the full-text index row by row ("test"), pages of 50
    # walk it against the list of matches ("list"), a rare word sorts its matches.
    notes = [
        Entry(
            url=f"https://alder.example.org/notes/{n}",
            title=f"Mastery note {n}",
            published=datetime(2026, 9, 1 + n % 28, n % 24, n % 60, tzinfo=UTC),
        )
        for n in range(200)
    ]
    store.sources.record_poll("Alder", notes, NOW)
    store.db.execute(
        "UPDATE items SET score = 0.5 WHERE title IN ('Mastery note 7', 'Mastery note 9')"
    )
    plan = store.queue._search_plan
    assert plan(QueueQuery(search="mastery"), 1) == "test"
    assert plan(QueueQuery(search="mastery"), 50) == "list"
    assert plan(QueueQuery(search="note 7"), 50) == "sort"
    by_hand = sorted(
        (item for item in store.items.find() if item.title.startswith("Mastery note")),
        key=lambda item: (item.score is not None, item.score or 0, item.published, item.id),
        reverse=True,
    )
    expected = [item.id for item in by_hand]
    assert expected[:2] == sorted(expected[:2], reverse=True) and len(expected) == 200
    for size in (1, 7, 50):
        assert all_pages(store, QueueQuery(search="mastery"), size) == expected
    assert all_pages(store, QueueQuery(search="mastery", source="Bramble"), 1) == []


def test_a_fetch_refreshes_the_planner_statistics_when_first_large_or_doubled(
    store: Store,
) -> None:
    assert store.jobs.analyzed_items() is None
    assert optimize_after_fetch(store, 0) is False  # nothing new: nothing to learn
    assert optimize_after_fetch(store, 31) is True  # the first fetch
    assert store.jobs.analyzed_items() == 31  # the fixture's 30 + 1 items
    more = [entry(n, f"Pacing note {n}") for n in range(100, 130)]  # 61 items: not doubled
    store.sources.record_poll("Alder", more, NOW)
    assert optimize_after_fetch(store, 30) is False  # tonight's job will do
    assert optimize_after_fetch(store, LARGE_FETCH) is True
    assert store.jobs.analyzed_items() == 61
    store.sources.record_poll("Alder", [entry(n, f"Equity note {n}") for n in range(200, 261)], NOW)
    assert optimize_after_fetch(store, 61) is True  # 122 items: doubled since counted
    assert store.jobs.analyzed_items() == 122

"""The monthly issue in a real SQLite file, through the service layer: the first draft,
edits with the queue's conflict rule, approval and revisions, carry-over, and one issue
at most for every item."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest

from cbewatch.config import load_config
from cbewatch.errors import IssueConflict, IssueError
from cbewatch.model.types import Entry
from cbewatch.newsletter import edits
from cbewatch.services import issues
from cbewatch.store import Store
from tests.conftest import write_config

TOPICS = "topics:\n  - name: Policy\n  - name: Equity\n"


@pytest.fixture
def env(tmp_path: Path) -> tuple:
    settings = load_config(write_config(tmp_path, TOPICS))
    store = Store(settings.db_path)
    store.sources.sync([("Alder", "https://alder.example.org/feed", "feed")])
    dates = ["2026-10-20", "2026-11-02", "2026-11-09", "2026-11-16", "2026-12-01"]
    entries = [
        Entry(url=f"https://alder.example.org/p/{n}", title=f"Piece {n}",
              published=datetime.fromisoformat(d).replace(tzinfo=UTC))
        for n, d in enumerate(dates, 1)
    ]  # fmt: skip
    store.sources.record_poll("Alder", entries, datetime(2026, 12, 2, tzinfo=UTC))
    for n, topic in ((1, "Policy"), (2, "Policy"), (3, "Equity"), (5, "Equity")):
        store.decisions.set(n, {"status": "accepted", "topic": topic, "blurb": f"B{n}."}, "ann")
    store.decisions.set(4, {"status": "rejected"}, "ann")
    yield settings, store
    store.close()


def ids(issue) -> list[list[int]]:
    return [[e.item_id for e in s.entries] for s in issue.sections]


def test_reading_a_month_without_an_issue_writes_nothing(env: tuple) -> None:
    settings, store = env
    would_be = issues.current(store, settings, "2026-11")
    assert ids(would_be) == [[2], [3]] and store.issues.latest("2026-11") is None
    stored = issues.open_draft(store, settings, "2026-11")
    assert ids(stored) == [[2], [3]] and stored.version == 1 and stored.status == "draft"
    assert store.issues.used_items() == {2, 3}


def test_two_curators_at_once_never_lose_a_change(env: tuple) -> None:
    settings, store = env
    seen = issues.open_draft(store, settings, "2026-11")
    ann = {"action": "blurb", "url": "https://alder.example.org/p/2", "blurb": "Ann's words."}
    issues.act(store, settings, "2026-11", seen.version, ann)
    bob = {"action": "remove_entry", "url": "https://alder.example.org/p/3"}
    with pytest.raises(IssueConflict) as refused:
        issues.act(store, settings, "2026-11", seen.version, bob)  # he saw the old version
    assert refused.value.current.entries[0].blurb == "Ann's words."
    after = issues.act(store, settings, "2026-11", refused.value.current.version, bob)
    assert ids(after) == [[2], []] and after.entries[0].blurb == "Ann's words."
    assert store.issues.used_items() == {2}  # item 3 is back in the accepted pool


def test_an_approved_issue_is_frozen_and_a_new_edit_makes_revision_two(env: tuple) -> None:
    settings, store = env
    approved = issues.approve(store, settings, "2026-11")
    assert (approved.status, approved.revision) == ("approved", 1)
    assert [i.revision for i in issues.published(store)] == [1]
    change = {"action": "move_entry", "url": "https://alder.example.org/p/3",
              "section": "Policy", "to": "0"}  # fmt: skip
    revised = issues.act(store, settings, "2026-11", approved.version, change)
    assert (revised.status, revised.revision, ids(revised)) == ("draft", 2, [[3, 2], []])
    kept = store.issues.revision("2026-11", 1)
    assert kept is not None and ids(kept) == [[2], [3]] and kept.status == "approved"
    assert [i.revision for i in issues.published(store)] == [1]  # the draft is not public
    with pytest.raises(IssueError, match="approved"):
        store.issues.save(edits.set_text(kept, "title", "x"), None)
    issues.approve(store, settings, "2026-11")
    assert [i.revision for i in issues.published(store)] == [2]


def test_carry_over_and_one_issue_per_item(env: tuple) -> None:
    settings, store = env
    issues.open_draft(store, settings, "2026-11")
    assert issues.carry_over_count(store, "2026-11") == 1  # October's item 1
    november = issues.carry_over(store, settings, "2026-11")
    assert ids(november) == [[2, 1], [3]]
    december = issues.open_draft(store, settings, "2026-12")
    assert ids(december) == [[], [5]]  # nothing of November's issue, and its own item
    assert issues.carry_over_count(store, "2026-12") == 0
    stolen = replace(december, sections=november.sections)
    with pytest.raises(IssueError, match="in the 2026-11 issue already"):
        store.issues.save(stolen, None)
    assert ids(store.issues.latest("2026-12")) == [[], [5]]  # refused whole


@pytest.mark.parametrize("month", ["2026-13", "2026-1", "November", ""])
def test_a_month_that_is_not_one(env: tuple, month: str) -> None:
    settings, store = env
    with pytest.raises(IssueError, match="not a month"):
        issues.current(store, settings, month)

"""Curator decisions: `curation.triage` on a real SQLite file, and `cbewatch triage`."""

from __future__ import annotations

import getpass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cbewatch.cli import cli
from cbewatch.config import load_config
from cbewatch.errors import TriageError
from cbewatch.model.types import Entry
from cbewatch.services import curation
from cbewatch.store import Store
from tests.conftest import write_config

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
TOPICS = ("Policy", "Equity")


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "var" / "cbewatch.db")
    s.sources.sync([("Alder", "https://alder.example.org/feed", "feed")])
    urls = ["https://alder.example.org/a", "https://alder.example.org/b"]
    s.sources.record_poll("Alder", [Entry(url=u, title="A post") for u in urls], NOW)
    s.items.save_rankings([(1, 0.8, "Equity", "equity")])
    return s


def test_accepting_takes_the_curators_topic_and_blurb(store: Store) -> None:
    item = curation.triage(
        store, 1, "accept", topic="Policy", blurb="A short blurb.", topics=TOPICS
    )
    assert (item.status, item.topic, item.blurb) == (
        "accepted",
        "Policy",
        "A short blurb.",
    )
    assert item.suggested_topic == "Equity"  # kept beside the curator's choice


def test_accepting_without_a_topic_takes_the_suggestion(store: Store) -> None:
    assert curation.triage(store, 1, "accept").topic == "Equity"


def test_rejecting_then_changing_ones_mind_is_logged(store: Store) -> None:
    curation.triage(store, 2, "reject", who="ana")
    item = curation.triage(store, 2, "accept", topic="Policy", who="ben")
    assert item.status == "accepted" and item.blurb is None
    log = store.decisions.audit_log(2)  # newest first
    assert [(d.after["status"], d.who) for d in log] == [
        ("accepted", "ben"),
        ("rejected", "ana"),
    ]


def test_a_later_decision_without_a_blurb_keeps_it(store: Store) -> None:
    curation.triage(store, 1, "accept", blurb="Kept.")
    assert curation.triage(store, 1, "accept", topic="Policy").blurb == "Kept."


@pytest.mark.parametrize(
    ("item_id", "decision", "topic", "message"),
    [
        (99, "accept", None, "there is no item 99"),
        (1, "maybe", None, "accept or reject"),
        (1, "accept", "Sports", "no topic 'Sports'"),
    ],
)
def test_decisions_that_cannot_be_taken(
    store: Store, item_id: int, decision: str, topic: str | None, message: str
) -> None:
    with pytest.raises(TriageError, match=message):
        curation.triage(store, item_id, decision, topic=topic, topics=TOPICS)
    assert store.items.get(1).status == "new" and store.decisions.audit_log(1) == []


def test_the_command_line(tmp_path: Path) -> None:
    config = write_config(tmp_path, "topics:\n  - name: Policy\n  - name: Equity\n")
    with Store(load_config(config).db_path) as store:
        store.sources.sync([("Alder", "https://alder.example.org/feed", "feed")])
        entry = Entry(url="https://alder.example.org/a", title="A post")
        store.sources.record_poll("Alder", [entry], NOW)
    runner = CliRunner()

    def triage(*args: str) -> tuple[int, str]:
        result = runner.invoke(cli, ["--config", str(config), "triage", *args])
        return result.exit_code, result.output

    assert triage("1", "--accept", "--topic", "Policy", "--blurb", "Why it matters.") == (
        0,
        "item 1 accepted (Policy)\n",
    )
    assert triage("1", "--reject") == (0, "item 1 rejected\n")
    code, output = triage("1")
    assert code == 2 and "--accept or --reject" in output
    code, output = triage("1", "--accept", "--topic", "Polcy")
    assert code == 2 and "no topic named 'Polcy'" in output and "did you mean 'Policy'" in output
    code, output = triage("1", "--accept", "--reject")
    assert code == 2 and "not both" in output
    assert triage("1", "--reject", "--by", "dana")[0] == 0
    with Store(load_config(config).db_path) as store:
        assert store.decisions.audit_log(1)[0].who == "dana"
    assert triage("1", "--accept")[0] == 0
    with Store(load_config(config).db_path) as store:
        assert store.decisions.audit_log(1)[0].who == getpass.getuser()  # not "cli"
    assert triage("7", "--accept")[0] == 1


def test_a_duplicate_is_not_decided(store: Store) -> None:
    store.db["items"].update(2, {"status": "duplicate", "duplicate_of": 1})  # dedup's write
    with pytest.raises(TriageError, match="duplicate of item 1"):
        curation.triage(store, 2, "accept")

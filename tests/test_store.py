"""The store on a real SQLite file: schema, migrations, one transaction per poll."""

import sqlite3
from contextlib import closing
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlite_utils

from cbewatch.errors import StoreError
from cbewatch.model.times import utc_now
from cbewatch.model.types import Entry, Sighting
from cbewatch.services.accounts import check_password
from cbewatch.store import MIGRATIONS, SCHEMA_VERSION, Store

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)


def entry(url: str, title: str = "A post", **kw: object) -> Entry:
    return Entry(url=url, title=title, **kw)  # type: ignore[arg-type]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    s = Store(tmp_path / "var" / "cbewatch.db")
    s.sources.sync([("Alder", "https://alder.example.org/feed", "feed")])
    s.sources.sync([("Bramble", "https://bramble.example.org/feed", "feed")])
    return s


def test_new_database_is_wal_with_current_schema(tmp_path: Path) -> None:
    path = tmp_path / "var" / "cbewatch.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"sources", "items", "sightings"} <= tables


def test_reopening_keeps_data(tmp_path: Path) -> None:
    path = tmp_path / "cbewatch.db"
    with Store(path) as s:
        s.sources.sync([("Alder", "https://alder.example.org/feed", "feed")])
        s.sources.record_poll("Alder", [entry("https://alder.example.org/a")], NOW)
    with Store(path) as s:
        assert s.items.count() == 1


def test_a_newer_database_is_refused_plainly(tmp_path: Path) -> None:
    path = tmp_path / "cbewatch.db"
    Store(path).close()
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION + 1}")
    conn.commit()
    conn.close()
    with pytest.raises(StoreError, match="newer cbewatch"):
        Store(path)


def test_not_a_database_is_a_plain_error(tmp_path: Path) -> None:
    path = tmp_path / "cbewatch.db"
    path.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreError, match="cannot open the database"):
        Store(path)


def test_same_canonical_url_is_one_item_with_also_at(store: Store) -> None:
    url = "https://alder.example.org/news/grading-pilot"
    assert (
        store.sources.record_poll("Alder", [entry(url), entry(url + "/?utm_source=rss")], NOW) == 1
    )
    assert store.sources.record_poll("Bramble", [entry(url + "?utm_medium=feed#top")], NOW) == 0
    [item] = store.items.find()
    assert item.url == url and item.source == "Alder"
    assert item.also_at == (
        Sighting(url + "/?utm_source=rss", "Alder"),
        Sighting(url + "?utm_medium=feed#top", "Bramble"),
    )


def test_the_plain_url_wins_over_a_tracking_link_seen_first(store: Store) -> None:
    url = "https://alder.example.org/news/toolkit"
    tracked = url + "?utm_source=bramble&utm_medium=rss"
    store.sources.record_poll("Bramble", [entry(tracked)], NOW)
    store.sources.record_poll("Alder", [entry(url)], NOW)
    [item] = store.items.find()
    assert (item.url, item.source) == (url, "Alder")
    assert item.also_at == (Sighting(tracked, "Bramble"),)


def test_seeing_the_same_url_again_adds_nothing(store: Store) -> None:
    url = "https://alder.example.org/news/a"
    store.sources.record_poll("Alder", [entry(url)], NOW)
    assert store.sources.record_poll("Alder", [entry(url)], NOW) == 0
    [item] = store.items.find()
    assert item.also_at == ()


def test_a_poll_commits_whole_or_not_at_all(store: Store) -> None:
    """A failure half-way through storing a poll leaves no item and no health change."""
    poisoned = [entry("https://alder.example.org/ok"), "not an entry"]  # the second one breaks
    with pytest.raises(AttributeError):
        store.sources.record_poll("Alder", poisoned, NOW, lambda s: replace(s, etag='"x"'))  # type: ignore[arg-type]
    assert store.items.count() == 0
    assert store.sources.state("Alder").etag is None


def test_published_falls_back_to_first_seen(store: Store) -> None:
    published = datetime(2026, 11, 2, 8, 30, tzinfo=UTC)
    store.sources.record_poll(
        "Alder",
        [
            entry("https://alder.example.org/a"),
            entry("https://alder.example.org/b", published=published),
        ],
        NOW,
    )
    by_url = {i.url: i for i in store.items.find()}
    assert by_url["https://alder.example.org/a"].published == "2026-11-23T12:00:00Z"
    assert by_url["https://alder.example.org/b"].published == "2026-11-02T08:30:00Z"
    assert by_url["https://alder.example.org/b"].first_seen == "2026-11-23T12:00:00Z"


def test_item_filters(store: Store) -> None:
    store.sources.record_poll(
        "Alder",
        [entry("https://alder.example.org/oct", published=datetime(2026, 10, 5, tzinfo=UTC))],
        NOW,
    )
    store.sources.record_poll(
        "Bramble",
        [entry("https://bramble.example.org/nov", published=datetime(2026, 11, 5, tzinfo=UTC))],
        NOW,
    )
    assert [i.source for i in store.items.find(source="Bramble")] == ["Bramble"]
    assert [i.url[-3:] for i in store.items.find(month="2026-10")] == ["oct"]
    assert [i.url[-3:] for i in store.items.find(since=datetime(2026, 11, 1, tzinfo=UTC))] == [
        "nov"
    ]
    assert len(store.items.find(status="new")) == 2 and store.items.find(status="accepted") == []


def test_syncing_an_unchanged_config_writes_nothing(store: Store, tmp_path: Path) -> None:
    """Commands and `serve` sync the config's sources when they start: with nothing
    changed that is a read (another connection sees no commit), not a write."""
    configured = [
        ("Alder", "https://alder.example.org/feed", "feed"),
        ("Bramble", "https://bramble.example.org/feed", "feed"),
    ]
    store.sources.record_poll("Alder", [], NOW, lambda s: replace(s, etag='"v1"'))
    with closing(sqlite3.connect(tmp_path / "var" / "cbewatch.db")) as other:
        before = other.execute("PRAGMA data_version").fetchone()[0]
        assert store.sources.sync(configured) is False
        assert other.execute("PRAGMA data_version").fetchone()[0] == before
        assert store.sources.sync([*configured, ("Cedar", "https://c.example.org/f", "feed")])
        assert other.execute("PRAGMA data_version").fetchone()[0] != before
    assert store.sources.state("Alder").etag == '"v1"'  # an unchanged source keeps its state
    assert set(store.sources.states()) == {"Alder", "Bramble", "Cedar"}


def test_changing_a_source_url_starts_it_afresh(store: Store) -> None:
    store.sources.record_poll("Alder", [], NOW, lambda s: replace(s, etag='"v1"'))
    store.sources.sync([("Alder", "https://alder.example.org/new-feed", "feed")])
    fresh = store.sources.state("Alder")
    assert fresh.url.endswith("new-feed") and fresh.etag is None


@pytest.mark.parametrize(
    "fixture", sorted((Path(__file__).parent / "fixtures" / "db").glob("v*.db"))
)
def test_every_older_database_opens_and_upgrades(tmp_path: Path, fixture: Path) -> None:
    """A database written by each earlier schema opens with this one, data intact."""
    path = tmp_path / "cbewatch.db"
    path.write_bytes(fixture.read_bytes())
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        found = {item.title: item for item in store.items.find()}
    assert set(found) == {"Grading pilot, year one", "Learner profile toolkit"}
    assert found["Grading pilot, year one"].author == "Rosa Lind"
    assert found["Learner profile toolkit"].also_at == (
        Sighting("https://alder.example.org/posts/toolkit?utm_source=cedar", "Cedar Foundation"),
    )


def test_a_version_1_database_upgrades_and_its_items_wait_for_extraction(tmp_path: Path) -> None:

    path = tmp_path / "cbewatch.db"
    db = sqlite_utils.Database(path)
    MIGRATIONS[0](db)
    db["items"].insert(
        {"url": "https://a.org/1", "canonical_url": "https://a.org/1", "source": "Alder",
         "status": "new", "first_seen": "2026-11-01T00:00:00Z", "version": 1}
    )  # fmt: skip
    db.execute("PRAGMA user_version = 1")
    db.conn.commit()
    db.close()
    with Store(path) as s:
        assert s.schema_version == SCHEMA_VERSION
        [pending] = s.items.pending_pages(utc_now())
        assert pending["url"] == "https://a.org/1" and pending["attempts"] == 0
        assert s.clusters.undeduped() == [] and s.clusters.signature_rows() == []


def test_commands_started_together_on_a_new_data_directory_all_open_it(tmp_path: Path) -> None:
    """Several processes creating the database at once: one migrates, none fails."""
    import subprocess
    import sys

    path = tmp_path / "var" / "cbewatch.db"
    opener = f"from cbewatch.store import Store; Store({str(path)!r}).close(); print('ok')"
    procs = [
        subprocess.Popen([sys.executable, "-c", opener], stdout=subprocess.PIPE, text=True)
        for _ in range(6)
    ]
    outputs = [p.communicate(timeout=60)[0] for p in procs]
    assert [p.returncode for p in procs] == [0] * 6, outputs
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION


def test_opening_while_another_command_is_creating_the_file_waits_for_it(tmp_path: Path) -> None:
    """The race behind a rare "database is locked" when two fetches start together:
    SQLite refuses the switch to WAL at once, without waiting, while another connection
    holds the write lock on a file still in rollback mode."""
    import threading

    path = tmp_path / "cbewatch.db"
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("CREATE TABLE scratch (x)")
    other.execute("BEGIN IMMEDIATE")
    threading.Timer(0.3, other.execute, ["COMMIT"]).start()
    with Store(path) as store:
        assert store.db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        assert store.schema_version == SCHEMA_VERSION
    other.close()


def test_a_version_3_database_keeps_its_curators_at_session_generation_0(tmp_path: Path) -> None:
    path = tmp_path / "cbewatch.db"
    path.write_bytes((Path(__file__).parent / "fixtures" / "db" / "v3.db").read_bytes())
    with Store(path) as store:
        assert store.schema_version == SCHEMA_VERSION
        assert store.users.session_generation("ann") == 0
        assert check_password(store.users.password_hash("ann"), "ann's old password")


def test_ending_sessions_and_a_new_password_bump_the_session_generation(store: Store) -> None:
    assert store.users.save("ann", "hash-1") is True
    store.users.save("bob", "hash-1")
    assert store.users.session_generation("ann") == 0
    store.users.end_sessions("ann")
    assert store.users.session_generation("ann") == 1
    assert store.users.save("ann", "hash-2") is False  # a new password logs ann out too
    assert (
        store.users.session_generation("ann") == 2 and store.users.password_hash("ann") == "hash-2"
    )
    assert store.users.session_generation("bob") == 0
    assert store.users.session_generation("nobody") is None
    store.users.end_sessions("nobody")  # nothing to end, and no error

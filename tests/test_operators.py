"""What operators meet first, from a shell: bad input gets exit 2 and a sentence naming
the culprit (with the closest name), backups that cannot hurt, restore, and accounts."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from cbewatch.cli import cli
from cbewatch.config import load_config
from cbewatch.demo.server import Route, SiteServer
from cbewatch.model.types import Entry
from cbewatch.store import Store

from .conftest import child_env, serve_config, start_serve, write_config
from .test_fetch import RSS, rss

SOURCES = "sources:\n  - name: Alder Institute\n    url: https://alder.example.org/feed\n"


def run(config: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], input=stdin)
    return result.exit_code, result.output


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, "topics:\n  - name: Policy\n" + SOURCES)
    with Store(load_config(path).db_path) as store:
        store.sources.sync([("Alder Institute", "https://alder.example.org/feed", "feed")])
        entry = Entry(url="https://alder.example.org/a", title="A post")
        store.sources.record_poll("Alder Institute", [entry], datetime(2026, 11, 2, tzinfo=UTC))
    return path


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("items", "--month", "2026-1"), "not a month like 2026-11"),
        (("items", "--month", "2026-13"), "not a month like 2026-11"),
        (("items", "--source", "Alder Institut"), "did you mean 'Alder Institute'?"),
        (("fetch", "--source", "alder institute"), "did you mean 'Alder Institute'?"),
        (("triage", "1", "--accept", "--topic", "Polcy"), "did you mean 'Policy'?"),
        (("triage", "1", "--accept", "--reject"), "not both"),
    ],
)
def test_bad_input_exits_2_naming_it(config: Path, args: tuple[str, ...], words: str) -> None:
    code, output = run(config, *args)
    assert code == 2 and words in output, output
    with Store(load_config(config).db_path) as store:
        assert store.items.get(1).status == "new"  # nothing was decided


def test_an_empty_config_is_not_ok(tmp_path: Path) -> None:
    empty = tmp_path / "sources.yaml"
    empty.write_text("\n# nothing yet\n")
    code, output = run(empty, "check-config")
    assert code == 2 and "the file is empty" in output


def test_a_backup_refuses_to_hurt(tmp_path: Path, config: Path) -> None:
    (tmp_path / "new").mkdir()
    nowhere = write_config(tmp_path / "new", "")
    code, output = run(nowhere, "backup", str(tmp_path / "copy.db"))
    assert code == 1 and "nothing to back up" in output
    assert not load_config(nowhere).db_path.exists() and not (tmp_path / "copy.db").exists()
    copy = tmp_path / "copy.db"
    assert run(config, "backup", str(copy))[0] == 0
    copy_bytes = copy.read_bytes()
    code, output = run(config, "backup", str(copy))
    assert code == 1 and "--force" in output and copy.read_bytes() == copy_bytes
    assert run(config, "backup", "--force", str(copy))[0] == 0


def test_restore_puts_a_backup_back_and_keeps_what_it_replaced(
    tmp_path: Path, config: Path
) -> None:
    copy = tmp_path / "copy.db"
    assert run(config, "backup", str(copy))[0] == 0
    assert run(config, "triage", "1", "--accept")[0] == 0  # a change after the backup
    code, output = run(config, "restore", str(copy))
    assert code == 1 and "holds 1 items" in output and "--force" in output
    code, output = run(config, "restore", "--force", str(copy))
    assert code == 0 and "before-restore" in output, output
    db = load_config(config).db_path
    with Store(db) as store:
        assert store.items.get(1).status == "new"  # as it was when backed up
    [kept] = db.parent.glob("cbewatch.db.before-restore-*")
    with closing(sqlite3.connect(kept)) as old:
        assert old.execute("SELECT status FROM items").fetchone()[0] == "accepted"
    not_ours = tmp_path / "other.db"
    with closing(sqlite3.connect(not_ours)) as other:
        other.execute("CREATE TABLE t (x)")
    code, output = run(config, "restore", "--force", str(not_ours))
    assert code == 1 and "not a cbewatch database" in output


def test_restore_waits_for_serve_to_stop(tmp_path: Path) -> None:
    config = serve_config(tmp_path)
    copy = tmp_path / "copy.db"
    app = start_serve(config, "--no-scheduler")
    try:
        assert run(config, "backup", str(copy))[0] == 0
        code, output = run(config, "restore", "--force", str(copy))
        assert code == 1 and "is running" in output and "stop it first" in output
    finally:
        app.stop()
    assert run(config, "restore", "--force", str(copy))[0] == 0


def test_curator_accounts_from_a_shell(config: Path, tmp_path: Path) -> None:
    assert run(config, "users", "add", "ann", "--password-stdin", stdin="first password\n")[0] == 0
    assert run(config, "users", "add", "bob", "--password-stdin", stdin="bobs password\n")[0] == 0
    code, output = run(config, "users", "list")
    assert code == 0 and output.splitlines()[-1] == "2 curators"
    assert [line.split("\t")[0] for line in output.splitlines()[:2]] == ["ann", "bob"]
    code, output = run(config, "users", "passwd", "ann", "--password-stdin", stdin="new password\n")
    assert code == 0 and "every session of ann has ended" in output
    code, output = run(config, "users", "passwd", "cat", "--password-stdin", stdin="whatever1\n")
    assert code == 1 and "no curator 'cat'" in output and "ann, bob" in output
    assert run(config, "users", "remove", "bob") == (0, "removed bob\n")
    assert run(config, "users", "list")[1].splitlines()[-1] == "1 curator"
    broken = tmp_path / "broken.yaml"
    broken.write_text("sources: [\n")
    code, output = run(broken, "users", "add", "dan", "--password-stdin", stdin="not asked\n")
    assert code == 2 and "not valid YAML" in output  # the config fails first


def test_rank_with_nothing_to_rank_returns_at_once(config: Path) -> None:
    """Nothing new to rank: no classifier is trained (scikit-learn is not even loaded)."""
    with Store(load_config(config).db_path) as store:
        store.decisions.set(1, {"status": "rejected"}, "ann")  # no `new` item left
    script = (
        "import sys\nfrom click.testing import CliRunner\nfrom cbewatch.cli import cli\n"
        f"result = CliRunner().invoke(cli, ['--config', {str(config)!r}, 'rank'])\n"
        "print(result.output.strip())\nprint('sklearn' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, env=child_env(), check=True
    )
    line, loaded = done.stdout.strip().splitlines()
    assert line.startswith("ranked 0 new items") and loaded == "False"


def test_a_busy_port_is_named_before_any_long_work(tmp_path: Path) -> None:
    config = serve_config(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        for command, option in (
            (["demo", "--web-port"], "--web-port"),
            (["serve", "--port"], "--port"),
        ):
            done = subprocess.run(
                [sys.executable, "-m", "cbewatch", "--config", str(config), *command, str(port)],
                capture_output=True, text=True, env=child_env(), timeout=60,
            )  # fmt: skip
            assert done.returncode == 1, done.stderr
            assert f"port {port} on 127.0.0.1 is in use" in done.stderr and option in done.stderr
            assert "polled" not in done.stdout  # the demo said so before fetching anything


def test_serve_logs_a_line_per_job_not_per_request(tmp_path: Path, site: SiteServer) -> None:
    feed = rss([(site.url(f"/p/{n}"), f"Post {n}", "<p>On mastery.</p>") for n in range(5)])
    site.add("/feed.xml", Route(feed, content_type=RSS))
    for n in range(5):
        site.add(f"/p/{n}", Route("<html><body><article><p>Mastery.</p></article></body></html>"))
    config = serve_config(
        tmp_path, f"sources:\n  - name: Local\n    url: {site.url('/feed.xml')}\n", [site.host_port]
    )
    app = start_serve(config)  # the scheduler polls at once
    try:
        deadline = time.monotonic() + 30
        while "poll: polled 1 source" not in app.log.read_text() and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        app.stop()
    log = app.log.read_text()
    assert "poll: polled 1 source: 5 new items" in log, log
    assert "HTTP Request" not in log and "/p/3" not in log  # six requests, no line each
    assert log.count("poll: ") == 1

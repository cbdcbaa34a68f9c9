"""`cbewatch serve` over HTTP: login, CSRF, headers, /healthz, signals, the lock, backups.

Every test runs the real command on 127.0.0.1 with a real SQLite file.
"""

from __future__ import annotations

import sqlite3
import threading
import time
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from cbewatch.cli import cli
from cbewatch.config import load_config
from cbewatch.daemon import Daemon
from cbewatch.demo.server import Route, SiteServer
from cbewatch.store import Store
from cbewatch.web.app import health_verdict

from .conftest import (
    PASSWORD,
    Served,
    csrf_from,
    logged_in,
    sample_entries,
    seed,
    serve_config,
    start_serve,
    wait_until_up,
)

PRIVATE = ["/", "/queue", "/queue?status=accepted", "/items/1", "/sources", "/logout"]


@pytest.mark.parametrize("path", PRIVATE)
def test_every_private_page_sends_strangers_to_login(served: Served, path: str) -> None:
    response = httpx.get(served.url + path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_posts_without_a_session_go_to_login_and_change_nothing(served: Served) -> None:
    response = httpx.post(served.url + "/items/1", data={"action": "accept", "version": "1"})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    with served.store() as store:
        assert store.queue_item(1)["status"] == "new"


def test_every_post_needs_the_csrf_token(served: Served) -> None:
    client = logged_in(served)
    for path, data in [
        ("/items/1", {"action": "accept", "version": "1"}),
        ("/sources", {}),
        ("/logout", {}),
    ]:
        assert client.post(path, data=data).status_code == 403, path
        wrong = client.post(path, data={**data, "csrf_token": "forged"})
        assert wrong.status_code == 403, path
    login = httpx.post(served.url + "/login", data={"username": "alice", "password": PASSWORD})
    assert login.status_code == 403
    with served.store() as store:
        assert store.queue_item(1)["status"] == "new"
    assert client.get("/queue").status_code == 200  # still logged in


def test_security_headers_and_session_cookie(served: Served) -> None:
    login = httpx.get(served.url + "/login")
    assert "script-src 'self'" in login.headers["content-security-policy"]
    assert "unsafe-inline" not in login.headers["content-security-policy"]
    assert login.headers["x-frame-options"] == "DENY"
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    behind_tls = httpx.get(served.url + "/login", headers={"x-forwarded-proto": "https"})
    assert "secure" in behind_tls.headers["set-cookie"].lower()
    for path in ("/queue", "/items/1", "/sources"):
        page = logged_in(served).get(path)
        assert page.status_code == 200 and page.headers["x-frame-options"] == "DENY"
        assert "<script>" not in page.text  # no inline script anywhere


def test_login_is_rate_limited(served: Served) -> None:
    client = httpx.Client(base_url=served.url)
    token = csrf_from(client.get("/login").text)
    for _ in range(5):
        bad = {"username": "mallory", "password": "wrong password", "csrf_token": token}
        assert client.post("/login", data=bad).status_code == 401
    again = {"username": "mallory", "password": PASSWORD, "csrf_token": token}
    assert client.post("/login", data=again).status_code == 429
    log = served.log.read_text()
    assert "login failed: user 'mallory' from 127.0.0.1" in log and "rate limit" in log
    assert PASSWORD not in log and "wrong password" not in log and "cbewatch_session" not in log


def test_plain_form_decisions_and_a_refused_conflict(served: Served) -> None:
    alice, bob = logged_in(served, "alice"), logged_in(served, "bob")
    token = csrf_from(alice.get("/items/2").text)
    form = {"action": "accept", "version": "1", "csrf_token": token, "next": "/queue"}
    done = alice.post("/items/2", data=form)
    assert done.status_code == 303 and done.headers["location"] == "/queue"
    stale = {**form, "action": "reject", "csrf_token": csrf_from(bob.get("/queue").text)}
    refused = bob.post("/items/2", data=stale)
    assert refused.status_code == 409
    assert "changed by alice" in refused.text and "accepted" in refused.text
    with served.store() as store:
        assert store.queue_item(2)["status"] == "accepted"
        assert [row["who"] for row in store.audit_log(2)] == ["alice"]
    assert "alice" in bob.get("/items/2").text  # the audit log is on the item page


def test_healthz_reports_database_and_scheduler(served: Served) -> None:
    response = httpx.get(served.url + "/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["database"] == "ok" and body["scheduler"] == "off"
    assert body["failing_sources"] == 0 and "last_poll" in body


def test_a_second_serve_on_the_same_data_is_refused(served: Served) -> None:
    second = start_serve(served.config, "--no-scheduler", wait=False)
    assert second.process.wait(20) == 1
    assert "already running" in second.log.read_text()
    assert httpx.get(served.url + "/healthz").status_code == 200


def test_sigterm_during_a_poll_exits_cleanly(tmp_path: Path) -> None:
    with SiteServer() as site:
        site.add("/slow.xml", Route("<rss/>", delay=30, content_type="application/rss+xml"))
        sources = f"sources:\n  - name: Slow\n    url: {site.url('/slow.xml')}\n"
        config = serve_config(tmp_path, sources, allow=[site.host_port])
        app = start_serve(config)  # the scheduler polls due sources at start
        deadline = time.monotonic() + 15
        while not site.hits_for("/slow.xml") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert site.hits_for("/slow.xml"), app.log.read_text()
        started = time.monotonic()
        assert app.stop(timeout=10) == 0
        assert time.monotonic() - started < 10
    with app.store() as store:
        [run] = store.recent_job_runs()
        assert run["job"] == "poll" and "stopped early" in run["detail"]
    conn = sqlite3.connect(tmp_path / "var" / "cbewatch.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_backup_while_serve_and_a_writer_are_busy(fresh_served: Served, tmp_path: Path) -> None:
    served = fresh_served
    stop, writing = threading.Event(), threading.Event()

    def write_decisions() -> None:
        with served.store() as store:
            while not stop.is_set():
                for item_id in range(1, 9):
                    status = "accepted" if time.monotonic() % 2 < 1 else "rejected"
                    store.set_decision(item_id, {"status": status}, "writer")
                writing.set()

    writer = threading.Thread(target=write_decisions)
    writer.start()
    try:
        assert writing.wait(10)
        copies = [tmp_path / f"copy-{i}.db" for i in range(3)]
        for copy in copies:
            done = CliRunner().invoke(cli, ["--config", str(served.config), "backup", str(copy)])
            assert done.exit_code == 0, done.output
    finally:
        stop.set()
        writer.join()
    for copy in copies:
        conn = sqlite3.connect(copy)
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert conn.execute("SELECT count(*) FROM items").fetchone()[0] == 8
        audited = conn.execute("SELECT count(*) FROM audit").fetchone()[0]
        assert audited > 0


def test_users_add_reads_the_password_from_stdin(tmp_path: Path) -> None:
    config = serve_config(tmp_path)
    command = ["--config", str(config), "users", "add", "carol", "--password-stdin"]
    done = CliRunner().invoke(cli, command, input="a long password\n")
    assert done.exit_code == 0 and "added carol" in done.output
    short = CliRunner().invoke(cli, command, input="short\n")
    assert short.exit_code == 1 and "at least 8" in short.output
    seed(config, sample_entries(1))
    app = start_serve(config, "--no-scheduler")
    try:
        wait_until_up(app)
        client = httpx.Client(base_url=app.url)
        token = csrf_from(client.get("/login").text)
        form = {"username": "carol", "password": "a long password", "csrf_token": token}
        assert client.post("/login", data=form).status_code == 303
        db = sqlite3.connect(tmp_path / "var" / "cbewatch.db")
        [hashed] = db.execute("SELECT password_hash FROM users WHERE name = 'carol'").fetchone()
        assert hashed.startswith("$argon2id$")
    finally:
        app.stop()


FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Fir</title>
<item><title>Mastery transcripts in Fir County</title><link>{base}/fir/1</link></item>
</channel></rss>"""


def test_sources_page_polls_now_and_names_the_silent_ones(tmp_path: Path) -> None:
    with SiteServer() as site:
        site.add(
            "/fir.xml", Route(FEED.format(base=site.base_url), content_type="application/rss+xml")
        )
        site.add("/quiet.xml", Route(FEED.split("<item>")[0] + "</channel></rss>"))
        sources = (
            f"sources:\n  - name: Fir News\n    url: {site.url('/fir.xml')}\n"
            f"  - name: Quiet Council\n    url: {site.url('/quiet.xml')}\n"
        )
        config = serve_config(tmp_path, sources, allow=[site.host_port])
        seed(config, [])
        app = start_serve(config, "--no-scheduler")
        try:
            client = logged_in(app)
            token = csrf_from(client.get("/sources").text)
            assert client.post("/sources", data={"csrf_token": token}).status_code == 303
            deadline = time.monotonic() + 20
            while "running" in client.get("/sources").text and time.monotonic() < deadline:
                time.sleep(0.2)
            page = client.get("/sources").text
        finally:
            app.stop()
    with app.store() as store:
        assert [item["title"] for item in store.items()] == ["Mastery transcripts in Fir County"]
    never = page.split("Never yielded an item")[1].split("Recent jobs")[0]
    assert "Quiet Council" in never and "Fir News" not in never
    assert "polled 2 sources: 1 new item" in page


@pytest.mark.parametrize(
    ("database", "scheduler", "verdict"),
    [
        ("ok", "running", ("ok", 200)),
        ("ok", "off", ("ok", 200)),
        ("ok", "stopped", ("unavailable", 503)),
        ("error: DatabaseError", "running", ("unavailable", 503)),
    ],
)
def test_health_verdict(database: str, scheduler: str, verdict: tuple[str, int]) -> None:
    assert health_verdict(database, scheduler) == verdict


def test_a_poll_is_never_started_twice(tmp_path: Path) -> None:
    with SiteServer() as site:
        site.add("/slow.xml", Route(FEED.format(base=site.base_url), delay=1.5))
        sources = f"sources:\n  - name: Slow\n    url: {site.url('/slow.xml')}\n"
        settings = load_config(serve_config(tmp_path, sources, allow=[site.host_port]))
        daemon = Daemon(settings, scheduler=False)
        assert daemon.poll_now([]) is True
        deadline = time.monotonic() + 10
        while not site.hits_for("/slow.xml") and time.monotonic() < deadline:
            time.sleep(0.02)
        assert daemon.polling() and daemon.poll_now([]) is False
        daemon.poll_job()  # what the scheduler would run meanwhile: skipped at once
        daemon.shutdown()  # stops the poll at a safe point and waits for it
        assert len(site.hits_for("/slow.xml")) == 1
    with Store(settings.db_path) as store:
        assert [run["job"] for run in store.recent_job_runs()] == ["poll"]


def test_the_queue_shows_why_and_accept_follows_the_triage_rules(fresh_served: Served) -> None:
    """Best first with the ranking's reasons shown; an accept without a topic takes the
    suggestion, as `cbewatch triage` does; a duplicate is refused."""
    with fresh_served.store() as store:
        store.save_rankings([(3, 0.91, "Grading and Assessment", "mastery, grading")])
        store.db.execute("UPDATE items SET status = 'duplicate', duplicate_of = 3 WHERE id = 4")
    alice = logged_in(fresh_served)
    queue = alice.get("/queue").text
    first = queue.index('id="item-')
    assert queue[first:].startswith('id="item-3"') and "Why: mastery, grading" in queue
    token = csrf_from(queue)
    form = {"action": "accept", "csrf_token": token, "next": "/queue"}
    assert alice.post("/items/3", data=form).status_code == 303
    refused = alice.post("/items/4", data=form)
    assert refused.status_code == 400 and "duplicate of item 3" in refused.text
    with fresh_served.store() as store:
        assert store.queue_item(3)["topic"] == "Grading and Assessment"
        assert store.queue_item(4)["status"] == "duplicate"

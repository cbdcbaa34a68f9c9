"""`cbewatch serve` over HTTP: login, CSRF, headers, /healthz, signals, the lock, backups.

Every test runs the real command on 127.0.0.1 with a real SQLite file.
"""

from __future__ import annotations

import asyncio
import html
import logging
import re
import sqlite3
import threading
import time
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner
from itsdangerous import URLSafeTimedSerializer

from cbewatch.cli import cli
from cbewatch.config import load_config
from cbewatch.daemon import Daemon
from cbewatch.demo.server import Route, SiteServer
from cbewatch.model.times import to_iso, utc_now
from cbewatch.model.types import Entry
from cbewatch.services.upkeep import health_verdict
from cbewatch.store import Store

from .conftest import (
    PASSWORD,
    TOPICS,
    Served,
    csrf_from,
    logged_in,
    planner_stats,
    sample_entries,
    seed,
    serve_config,
    start_serve,
    wait_until_up,
)

PRIVATE = ["/queue", "/queue?status=accepted", "/items/1", "/sources", "/logout", "/issues"]


@pytest.mark.parametrize("path", PRIVATE)
def test_every_private_page_sends_strangers_to_login(served: Served, path: str) -> None:
    response = httpx.get(served.url + path)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


def test_posts_without_a_session_go_to_login_and_change_nothing(served: Served) -> None:
    response = httpx.post(served.url + "/items/1", data={"action": "accept", "version": "1"})
    assert response.status_code == 303 and response.headers["location"].startswith("/login")
    with served.store() as store:
        assert store.items.get(1).status == "new"


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
        assert store.items.get(1).status == "new"
    assert client.get("/queue").status_code == 200  # still logged in


def test_security_headers_and_session_cookie(served: Served) -> None:
    login = httpx.get(served.url + "/login")
    assert "script-src 'self'" in login.headers["content-security-policy"]
    assert "unsafe-inline" not in login.headers["content-security-policy"]
    assert login.headers["x-frame-options"] == "DENY"
    cookie = login.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    forged = httpx.get(served.url + "/login", headers={"x-forwarded-proto": "https"})
    assert "secure" not in forged.headers["set-cookie"].lower()  # no proxy was named
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


def from_address(
    served: Served, address: str, cookies: dict[str, str] | None = None
) -> httpx.Client:
    """A client whose connections come from `address`: on Linux all of 127.0.0.0/8 is
    loopback, so each test can be a different client address to the server."""
    transport = httpx.HTTPTransport(local_address=address)
    return httpx.Client(base_url=served.url, transport=transport, timeout=30, cookies=cookies)


def try_login(client: httpx.Client, user: str, password: str) -> httpx.Response:
    token = csrf_from(client.get("/login").text)
    return client.post("/login", data={"username": user, "password": password, "csrf_token": token})


def test_a_strangers_failed_logins_do_not_lock_the_curator_out(served: Served) -> None:
    stranger = from_address(served, "127.0.0.2")
    for _ in range(5):
        assert try_login(stranger, "alice", "wrong password").status_code == 401
    refused = try_login(stranger, "alice", PASSWORD)
    assert refused.status_code == 429 and "Too many failed logins" in refused.text
    alice = from_address(served, "127.0.0.3")
    assert try_login(alice, "alice", PASSWORD).status_code == 303
    assert alice.get("/queue").status_code == 200
    assert try_login(stranger, "alice", PASSWORD).status_code == 429  # still, for the stranger


def test_failed_logins_are_limited_per_address_across_user_names(served: Served) -> None:
    sprayer = from_address(served, "127.0.0.4")
    for n in range(20):
        assert try_login(sprayer, f"guess{n % 5}", "wrong password").status_code == 401
    refused = try_login(sprayer, "bob", PASSWORD)
    assert refused.status_code == 429 and "Too many failed logins" in refused.text
    assert try_login(from_address(served, "127.0.0.5"), "bob", PASSWORD).status_code == 303


def test_guesses_sent_all_at_once_do_not_slip_past_the_limit(served: Served) -> None:
    """The password check is slow and runs off the event loop: thirty guesses in
    flight together still get at most five tries, not thirty (fewer, since only a few
    checks run at once and the rest are asked to come back)."""

    async def guess_together() -> list[int]:
        transport = httpx.AsyncHTTPTransport(local_address="127.0.0.6")
        async with httpx.AsyncClient(base_url=served.url, transport=transport) as client:
            token = csrf_from((await client.get("/login")).text)
            bad = {"username": "alice", "password": "wrong password", "csrf_token": token}
            sent = [client.post("/login", data=bad, timeout=30) for _ in range(30)]
            return sorted(response.status_code for response in await asyncio.gather(*sent))

    codes = asyncio.run(guess_together())
    assert 1 <= codes.count(401) <= 5 and codes.count(429) == 30 - codes.count(401)


def test_behind_a_proxy_failed_logins_count_by_the_forwarded_address(tmp_path: Path) -> None:
    """The proxy the operator names (127.0.0.1) names the client in X-Forwarded-For, as
    docs/deploy.md tells nginx to; two clients behind it are limited apart."""
    config = serve_config(tmp_path)
    seed(config, sample_entries())
    served = start_serve(config, "--no-scheduler", "--forwarded-allow-ips", "127.0.0.1")
    proxy = httpx.Client(base_url=served.url, timeout=10)
    behind_tls = proxy.get("/login", headers={"x-forwarded-proto": "https"})
    assert "secure" in behind_tls.headers["set-cookie"].lower()
    token = csrf_from(proxy.get("/login").text)
    for _ in range(5):
        bad = {"username": "bob", "password": "wrong password", "csrf_token": token}
        sent = proxy.post("/login", data=bad, headers={"x-forwarded-for": "192.0.2.10"})
        assert sent.status_code == 401
    right = {"username": "bob", "password": PASSWORD, "csrf_token": token}
    again = proxy.post("/login", data=right, headers={"x-forwarded-for": "192.0.2.10"})
    assert again.status_code == 429
    assert "login failed: user 'bob' from 192.0.2.10" in served.log.read_text()
    other = proxy.post("/login", data=right, headers={"x-forwarded-for": "192.0.2.11"})
    assert other.status_code == 303
    served.stop()


def test_a_forged_forwarded_address_is_ignored_by_default(fresh_served: Served) -> None:
    """Without --forwarded-allow-ips, a client that reaches the port cannot pick its own
    address for the login limits by sending X-Forwarded-For."""
    client = httpx.Client(base_url=fresh_served.url, timeout=10)
    token = csrf_from(client.get("/login").text)
    bad = {"username": "bob", "password": "wrong password", "csrf_token": token}
    for n in range(5):
        forged = {"x-forwarded-for": f"192.0.2.{n}"}  # a new "address" every time
        assert client.post("/login", data=bad, headers=forged).status_code == 401
    right = {"username": "bob", "password": PASSWORD, "csrf_token": token}
    again = client.post("/login", data=right, headers={"x-forwarded-for": "192.0.2.99"})
    assert again.status_code == 429  # all five counted against 127.0.0.1
    log = fresh_served.log.read_text()
    assert "from 127.0.0.1" in log and "192.0.2." not in log


def sent_to_login(response: httpx.Response) -> bool:
    return response.status_code == 303 and response.headers["location"].startswith("/login")


def test_a_cookie_copied_before_logout_is_refused_after_it(fresh_served: Served) -> None:
    served = fresh_served
    alice = logged_in(served)
    token = csrf_from(alice.get("/queue").text)
    copied = alice.cookies["cbewatch_session"]
    elsewhere = logged_in(served)  # alice in another browser
    assert alice.post("/logout", data={"csrf_token": token}).status_code == 303
    thief = {"cookie": f"cbewatch_session={copied}"}
    for path in ("/queue", "/items/1", "/sources"):
        refused = httpx.get(served.url + path, headers=thief)
        assert sent_to_login(refused), path
        assert copied not in refused.headers["set-cookie"]  # the stale cookie is replaced
    accept = {"action": "accept", "version": "1", "csrf_token": token}
    assert sent_to_login(httpx.post(served.url + "/items/1", data=accept, headers=thief))
    assert sent_to_login(elsewhere.get("/queue"))  # logout ends all of alice's sessions
    with served.store() as store:
        assert store.items.get(1).status == "new"
    assert logged_in(served).get("/queue").status_code == 200  # and she can log in again
    assert logged_in(served, "bob").get("/queue").status_code == 200


def test_a_new_password_ends_the_curators_sessions(fresh_served: Served) -> None:
    served = fresh_served
    alice, bob = logged_in(served), logged_in(served, "bob")
    command = ["--config", str(served.config), "users", "add", "alice", "--password-stdin"]
    done = CliRunner().invoke(cli, command, input="a brand new password\n")
    assert done.exit_code == 0 and "changed the password of alice" in done.output
    assert sent_to_login(alice.get("/queue"))
    assert bob.get("/queue").status_code == 200
    fresh = from_address(served, "127.0.0.7")
    assert try_login(fresh, "alice", PASSWORD).status_code == 401
    assert try_login(fresh, "alice", "a brand new password").status_code == 303


def test_a_session_cookie_without_a_generation_asks_for_a_login(fresh_served: Served) -> None:
    """A cookie signed before schema 4 (user and CSRF token only) is refused once."""
    secret = (load_config(fresh_served.config).data_dir / "session.key").read_text().strip()
    old = URLSafeTimedSerializer(secret, salt="cbewatch-session").dumps(
        {"user": "alice", "csrf": "token"}
    )
    queue = httpx.get(fresh_served.url + "/queue", headers={"cookie": f"cbewatch_session={old}"})
    assert sent_to_login(queue)


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
        assert store.items.get(2).status == "accepted"
        assert [row.who for row in store.decisions.audit_log(2)] == ["alice"]
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
        [run] = store.jobs.recent()
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
                    store.decisions.set(item_id, {"status": status}, "writer")
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
        assert [item.title for item in store.items.find()] == ["Mastery transcripts in Fir County"]
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
        assert [run["job"] for run in store.jobs.recent()] == ["poll"]


def test_the_queue_shows_why_and_accept_follows_the_triage_rules(fresh_served: Served) -> None:
    """Best first with the ranking's reasons shown; an accept without a topic takes the
    suggestion, as `cbewatch triage` does; a duplicate is refused."""
    with fresh_served.store() as store:
        store.items.save_rankings([(3, 0.91, "Grading and Assessment", "mastery, grading")])
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
        assert store.items.get(3).topic == "Grading and Assessment"
        assert store.items.get(4).status == "duplicate"


PAGE_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Elm</title>
<item><title>Slow page on mastery</title><link>{base}/slow-page</link></item>
</channel></rss>"""


def test_sigterm_while_a_page_downloads_exits_cleanly(tmp_path: Path) -> None:
    """The feed is stored, then its item's page hangs: SIGTERM stops the page reading
    at once; the item stays unread (tried again next time), nothing half-written."""
    with SiteServer() as site:
        feed = Route(PAGE_FEED.format(base=site.base_url), content_type="application/rss+xml")
        site.add("/elm.xml", feed)
        site.add("/slow-page", Route("<html><body><p>late</p></body></html>", delay=30))
        sources = f"sources:\n  - name: Elm\n    url: {site.url('/elm.xml')}\n"
        app = start_serve(serve_config(tmp_path, sources, allow=[site.host_port]))
        deadline = time.monotonic() + 15
        while not site.hits_for("/slow-page") and time.monotonic() < deadline:
            time.sleep(0.05)
        assert site.hits_for("/slow-page"), app.log.read_text()
        started = time.monotonic()
        assert app.stop(timeout=10) == 0, app.log.read_text()
        assert time.monotonic() - started < 10
    with app.store() as store:
        [run] = store.jobs.recent()
        assert run["job"] == "poll" and "stopped early" in run["detail"]
        [item] = store.items.find()
        assert item.title == "Slow page on mastery"
        unread = store.items.pending_pages(utc_now())
        assert [row["id"] for row in unread] == [item.id]
    conn = sqlite3.connect(tmp_path / "var" / "cbewatch.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_healthz_is_503_when_the_database_file_goes_bad(fresh_served: Served) -> None:
    served = fresh_served
    assert httpx.get(served.url + "/healthz").status_code == 200
    path = load_config(served.config).db_path
    # Overwritten in place, behind SQLite's back: serve's long-lived connection would
    # still answer from its page cache, so the check must read the file afresh.
    with path.open("r+b") as handle:
        handle.write(b"not a database at all. " * (path.stat().st_size // 23))
    response = httpx.get(served.url + "/healthz")
    assert response.status_code == 503
    body = response.json()
    assert body["status"] == "unavailable" and body["database"] == "error: DatabaseError"
    assert body["scheduler"] == "off"

    # Many at once: the app must open new connections to the bad file, and still answer.
    async def many() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=served.url, timeout=10) as client:
            return await asyncio.gather(*(client.get("/healthz") for _ in range(12)))

    answers = asyncio.run(many())
    assert {r.status_code for r in answers} == {503}
    assert all(r.json()["database"].startswith("error: ") for r in answers)


def test_nightly_backup_and_prune_jobs(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """The scheduler's own job functions: a backup that opens and checks, seven kept;
    job runs older than 30 days forgotten; one log line each."""
    config = serve_config(tmp_path)
    seed(config, sample_entries())
    settings = load_config(config)
    folder = settings.data_dir / "backups"
    folder.mkdir(parents=True)
    old = [folder / f"cbewatch-202501{day:02d}T030000.db" for day in range(1, 9)]
    for path in old:
        path.write_bytes(b"an older nightly backup")
    now = datetime.now(UTC)
    with Store(settings.db_path) as store, store.transaction() as db:
        for age in (45, 31, 29, 1):
            started = to_iso(now - timedelta(days=age))
            db.execute("INSERT INTO job_runs (job, started) VALUES (?, ?)", [f"age-{age}", started])
    caplog.set_level(logging.INFO, logger="cbewatch")
    daemon = Daemon(settings, scheduler=False)
    daemon.backup_job()
    daemon.prune_job()
    backups = sorted(folder.iterdir())
    assert len(backups) == 7 and backups[:6] == old[2:]  # the two oldest went
    newest = backups[-1]
    with closing(sqlite3.connect(newest)) as copy:
        assert copy.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
        assert copy.execute("SELECT count(*) FROM items").fetchone()[0] == 8
    with Store(settings.db_path) as store:
        jobs = {row["job"]: row["outcome"] for row in store.jobs.recent(20)}
    assert jobs == {"age-29": None, "age-1": None, "backup": "ok", "prune": "ok"}
    lines = [r.getMessage() for r in caplog.records if r.name == "cbewatch"]
    assert len(lines) == 2, lines
    assert lines[0].startswith(f"backup: wrote {newest.name}, deleted 2 old (")
    assert lines[1].startswith("prune: forgot 2 old job runs (")


def test_the_nightly_optimize_job_gives_the_query_planner_its_statistics(tmp_path: Path) -> None:
    """The app itself keeps SQLite's statistics (not only the benchmark): the seeded
    items were stored without any, and the job's run leaves them and its record."""
    config = serve_config(tmp_path)
    seed(config, sample_entries())
    settings = load_config(config)
    assert planner_stats(settings.db_path) == {}
    Daemon(settings, scheduler=False).optimize_job()
    stats = planner_stats(settings.db_path)
    assert stats["items_queue"].split()[0] == "8"  # the 8 seeded items, all counted
    with Store(settings.db_path) as store:
        [run] = [row for row in store.jobs.recent() if row["job"] == "optimize"]
    assert run["outcome"] == "ok" and run["finished"]


def test_decisions_rerank_the_queue_without_waiting_for_new_items(tmp_path: Path) -> None:
    """The scheduler's rerank job: once the curators keep rejecting one kind of item, the
    rest of that kind sinks; with no new decision the job does nothing."""
    config = serve_config(tmp_path)
    seed(config, sample_entries(32))
    settings = load_config(config)
    daemon = Daemon(settings, scheduler=False)
    daemon.rerank_job()  # the first run ranks what serve starts with
    with Store(settings.db_path) as store:
        before = {i.id: (i.title, i.score) for i in store.items.find()}
        for item_id, (title, _) in before.items():
            if item_id <= 16 and title.endswith(("policy", "credit")):
                store.decisions.set(item_id, {"status": "rejected"}, "alice")
            elif item_id <= 16 and title.endswith(("mastery", "grading")):
                store.decisions.set(item_id, {"status": "accepted", "topic": TOPICS[0]}, "alice")
    daemon.rerank_job()
    daemon.rerank_job()  # nothing changed since: no second run
    with Store(settings.db_path) as store:
        after = {i.id: i.score for i in store.items.find()}
        runs = [row["job"] for row in store.jobs.recent(20)]
    rejected_kind = [i for i, (title, _) in before.items() if i > 16 and title.endswith("policy")]
    accepted_kind = [i for i, (title, _) in before.items() if i > 16 and title.endswith("mastery")]
    assert all(after[i] < before[i][1] for i in rejected_kind)
    assert min(after[i] for i in accepted_kind) > max(after[i] for i in rejected_kind)
    assert runs == ["rerank", "rerank"]


def test_a_rerank_never_runs_beside_a_poll(tmp_path: Path) -> None:
    """Polls rank what they store: a rerank due meanwhile skips its turn (no second
    training beside the poll's), and the next one catches up."""
    config = serve_config(tmp_path)
    seed(config, sample_entries(8))
    daemon = Daemon(load_config(config), scheduler=False)
    with daemon._rank_lock:  # as a poll holds it while it ranks
        daemon.rerank_job()
    with Store(load_config(config).db_path) as store:
        assert store.jobs.recent(5) == []
    daemon.rerank_job()
    with Store(load_config(config).db_path) as store:
        assert [row["job"] for row in store.jobs.recent(5)] == ["rerank"]


def _queue_ids(page: str) -> list[int]:
    return [int(found) for found in re.findall(r'id="item-(\d+)"', page)]


def test_queue_filters_next_page_and_the_item_page(tmp_path: Path) -> None:
    """Month, source and topic filters, keyset "Next page" links, and an item page with
    its extracted text and a link to the original, all over HTTP."""
    config = serve_config(tmp_path)
    start = datetime(2026, 11, 1, tzinfo=UTC)
    alder = [
        Entry(url=f"https://alder.example.org/posts/{i}", title=f"Alder post {i}",
              summary_text="A district's notes.", published=start + timedelta(hours=i))
        for i in range(55)
    ]  # fmt: skip
    seed(config, alder)
    birch = [
        Entry(url=f"https://birch.example.org/{i}", title=f"Birch minutes {i}",
              summary_text="Council minutes.", published=start - timedelta(days=10 * i))
        for i in range(3)
    ]  # fmt: skip
    with Store(load_config(config).db_path) as store:
        store.sources.sync([("Birch Council", "https://birch.example.org/feed", "feed")])
        store.sources.record_poll("Birch Council", birch, start)
        ids = {item.title: item.id for item in store.items.find()}
        for title in ("Alder post 7", "Birch minutes 1"):
            store.decisions.set(ids[title], {"topic": "Equity"}, "alice")
        text = "Full text: the district moved every school to mastery transcripts."
        extracted = {"id": ids["Alder post 3"], "final": True, "extracted_from": "page"}
        extracted |= {"text": text, "html": f"<p>{text}</p>", "error": None}
        store.items.record_extractions([extracted], start)
    app = start_serve(config, "--no-scheduler")
    try:
        alice = logged_in(app)

        def titles(query: str) -> set[str]:
            names = {v: k for k, v in ids.items()}
            return {names[i] for i in _queue_ids(alice.get("/queue" + query).text)}

        assert titles("?month=2026-10") == {"Birch minutes 1", "Birch minutes 2"}
        assert titles("?source=Birch+Council") == {f"Birch minutes {i}" for i in range(3)}
        assert titles("?topic=Equity") == {"Alder post 7", "Birch minutes 1"}
        assert titles("?source=Alder+Institute&month=2026-10") == set()

        pages: list[list[int]] = []
        url: str | None = "/queue?source=Alder+Institute"
        while url:
            page = alice.get(url).text
            pages.append(_queue_ids(page))
            found = re.search(r'<a href="([^"]+)" rel="next">', page)
            url = html.unescape(found.group(1)) if found else None
            assert url is None or ("source=Alder+Institute" in url and "after=" in url)
        assert [len(ids_on_page) for ids_on_page in pages] == [50, 5]
        seen = pages[0] + pages[1]
        assert sorted(seen) == sorted(ids[f"Alder post {i}"] for i in range(55))
        assert seen[0] == ids["Alder post 54"]  # newest first: no score yet

        item = alice.get(f"/items/{ids['Alder post 3']}").text
        assert text in item
        assert '<a href="https://alder.example.org/posts/3"' in item and "Original at" in item
    finally:
        app.stop()


def get_routes(item_id: int) -> list[str]:
    """Every path a GET reaches in the app, with its parameters filled in, and every
    static file: read from the app's own routes, so a new page is covered at once."""
    from starlette.routing import Mount, Route

    from cbewatch.web.app import ROUTES

    paths = []
    for route in ROUTES:
        if isinstance(route, Route) and "GET" in (route.methods or ()):
            paths.append(route.path.replace("{item_id:int}", str(item_id)))
        elif isinstance(route, Mount):
            folder = Path(route.app.directory)  # type: ignore[attr-defined]
            paths += [f"{route.path}/{f.name}" for f in sorted(folder.iterdir())]
    return paths


def test_no_get_changes_the_database(tmp_path: Path) -> None:
    """A curator's every GET, filters, next pages and odd input included, leaves the
    database as it was (PRAGMA data_version moves with any other connection's commit).
    The config names sources the database has not seen: serve mirrors them when it
    starts, never when a page is shown."""
    sources = "".join(
        f"  - name: {name}\n    url: https://{name.lower()}.example.org/feed\n"
        for name in ("Birch", "Cedar")
    )
    config = serve_config(tmp_path, "sources:\n" + sources)
    seed(config, sample_entries(60))
    app = start_serve(config, "--no-scheduler")
    try:
        client = logged_in(app)
        first = client.get("/queue").text
        after = re.search(r'href="(/queue\?[^"]*after=[^"]+)"', first)
        assert after, "the queue has a next page"
        paths = [
            *get_routes(item_id=3),
            "/items/999",
            "/queue?status=accepted&source=Alder+Institute&topic=Equity&month=2026-11&q=mastery",
            "/queue?month=2026-1&status=nonsense&q=%22%20OR",
            html.unescape(after.group(1)),
            "/login?next=/sources",
            "/sources?notice=started",
        ]
        with closing(sqlite3.connect(load_config(config).db_path)) as db:
            before = db.execute("PRAGMA data_version").fetchone()[0]
            answers = {path: client.get(path).status_code for path in paths}
            assert db.execute("PRAGMA data_version").fetchone()[0] == before, answers
        assert answers["/sources"] == answers["/queue"] == answers["/items/3"] == 200
        assert answers["/items/999"] == 404
        assert {"/", "/login", "/logout", "/healthz", "/static/htmx.min.js"} <= set(answers)
        with app.store() as store:  # serve mirrored the config's sources when it started
            assert {"Birch", "Cedar"} <= set(store.sources.states())
    finally:
        app.stop()


def test_a_slow_write_does_not_hold_up_another_curators_queue(fresh_served: Served) -> None:
    """While alice's accept waits for the database's write lock (another process holds
    it), bob's queue page is served: database work runs off the web's event loop."""
    alice, bob = logged_in(fresh_served, "alice"), logged_in(fresh_served, "bob")
    token = csrf_from(alice.get("/items/1").text)
    accepted: list[int] = []

    def accept() -> None:
        data = {"action": "accept", "version": "1", "csrf_token": token}
        accepted.append(alice.post("/items/1", data=data, timeout=30).status_code)

    writer = threading.Thread(target=accept)
    with closing(sqlite3.connect(load_config(fresh_served.config).db_path)) as lock:
        lock.execute("BEGIN IMMEDIATE")  # the write lock, as a long poll's commit holds it
        try:
            writer.start()
            time.sleep(0.5)
            assert writer.is_alive() and not accepted, "the accept waits for the lock"
            queue = bob.get("/queue", timeout=10)
            assert queue.status_code == 200 and "Post 1 on grading" in queue.text
            assert writer.is_alive(), "bob's page came while alice's write still waited"
        finally:
            lock.execute("ROLLBACK")
    writer.join(timeout=20)
    assert accepted == [303]
    with fresh_served.store() as store:
        assert store.items.get(1).status == "accepted"


@pytest.mark.parametrize(
    ("method", "path", "data"),
    [
        ("GET", "/queue?q=%00", None),  # FTS5: "unterminated string"
        ("GET", "/queue?q=mastery%07", None),
        ("GET", "/queue?after=1~x~99999999999999999999", None),  # OverflowError
        ("GET", "/queue?after=nan~2026-11-01~3", None),
        ("GET", "/items/9223372036854775808", None),  # past SQLite's integers
        ("POST", "/items/9223372036854775808", {"action": "accept"}),
        ("POST", "/items/1", {"action": "accept", "version": "²"}),  # "²".isdigit()
        ("POST", "/issues/2026-11/edit", {"action": "text", "version": "١"}),
    ],
)
def test_odd_input_gets_a_4xx_never_a_500(
    served: Served, method: str, path: str, data: dict | None
) -> None:
    client = logged_in(served)
    if data is not None:
        data = {**data, "csrf_token": csrf_from(client.get("/queue").text)}
    response = client.request(method, path, data=data)
    assert 400 <= response.status_code < 500, (path, response.status_code, response.text[:200])
    assert client.get("/queue").status_code == 200  # the connection and app still answer
    with served.store() as store:
        assert store.items.get(1).status == "new"


def guess(client: httpx.Client, user: str, password: str) -> int:
    token = csrf_from(client.get("/login").text)
    form = {"username": user, "password": password, "csrf_token": token}
    return client.post("/login", data=form).status_code


def test_strangers_on_twenty_addresses_never_lock_a_curator_out(tmp_path: Path) -> None:
    """20 addresses × 5 wrong passwords reach ann's per-user ceiling; ann's own browser
    (it logged in before) still gets in from a new address, before and after a restart;
    a browser never used before, from a new address, is held back."""
    config = serve_config(tmp_path)
    seed(config, sample_entries())
    app = start_serve(config, "--no-scheduler")
    ann = from_address(app, "127.0.0.1")
    assert guess(ann, "alice", PASSWORD) == 303  # her browser now carries the cookie
    cookies = {"cbewatch_known": ann.cookies["cbewatch_known"]}

    def attack() -> None:
        for n in range(2, 22):
            stranger = from_address(app, f"127.0.0.{n}")
            assert [guess(stranger, "alice", "wrong!") for _ in range(5)] == [401] * 5

    try:
        attack()
        assert guess(from_address(app, "127.0.0.50"), "alice", PASSWORD) == 429  # unknown
        assert guess(from_address(app, "127.0.0.51", cookies=cookies), "alice", PASSWORD) == 303
    finally:
        app.stop()
    app = start_serve(config, "--no-scheduler")  # a restart: the cookie's secret holds
    try:
        attack()
        assert guess(from_address(app, "127.0.0.52", cookies=cookies), "alice", PASSWORD) == 303
    finally:
        app.stop()


def memory_kib(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise AssertionError(f"no {field} for {pid}")


def test_forty_logins_at_once_keep_memory_bounded(fresh_served: Served) -> None:
    """Each password check takes 64 MiB; only a few run at once, the rest are asked to
    retry at once (429, Retry-After), so serve's peak memory stays near its idle size."""
    pid = fresh_served.process.pid
    assert (
        guess(logged_in(fresh_served).__class__(base_url=fresh_served.url), "bob", PASSWORD) == 303
    )
    idle = memory_kib(pid, "VmRSS")

    async def flood() -> list[httpx.Response]:
        async with httpx.AsyncClient(base_url=fresh_served.url, timeout=60) as client:
            page = await client.get("/login")
            token = csrf_from(page.text)
            form = {"username": "bob", "password": "not bobs", "csrf_token": token}
            return await asyncio.gather(*(client.post("/login", data=form) for _ in range(40)))

    answers = asyncio.run(flood())
    peak = memory_kib(pid, "VmHWM")
    codes = sorted({r.status_code for r in answers})
    assert set(codes) <= {401, 429} and 429 in codes
    assert all(r.headers.get("retry-after") for r in answers if r.status_code == 429)
    # Two checks at once: idle + 2 × 64 MiB (about 2.7 times idle here). 40 at once took
    # serve from 176 MB to 1,073 MB before (and could take 40 × 64 MiB).
    assert peak / idle < 4, (peak, idle)

"""The monthly issue over HTTP and from a shell, on a real `cbewatch serve`, a real SQLite
file and a real SMTP server (aiosmtpd on 127.0.0.1): the editor's actions and conflicts,
the preview, the public archive and its feed, the static build, the blog export, and a
test copy that arrives as text-then-HTML."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import feedparser
import httpx
import pytest
from click.testing import CliRunner

from cbewatch.cli import cli
from cbewatch.config import load_config
from cbewatch.demo.server import Route, SiteServer
from cbewatch.model.types import Entry
from cbewatch.services.accounts import add_user
from cbewatch.store import Store

from .conftest import (
    PASSWORD,
    Inbox,
    csrf_from,
    free_port,
    logged_in,
    planner_stats,
    smtp_server,
    start_serve,
    write_config,
)

MONTH = "2026-11"
TOPICS = "topics:\n  - name: Policy\n  - name: Equity\n"
HOSTILE = '<script>alert(1)</script>Credit "flex" & mastery'


def seed_issue_items(config: Path) -> None:
    """Five items of November and one of October, four accepted with blurbs."""
    with Store(load_config(config).db_path) as store:
        store.sources.sync([("Alder Institute", "https://alder.example.org/feed", "feed")])
        entries = [
            Entry(url=f"https://alder.example.org/p/{n}", title=title,
                  published=datetime(2026, month, 3 + n, tzinfo=UTC))
            for n, (title, month) in enumerate(
                [("Mastery grading year one", 11), (HOSTILE, 11), ("Seat time waivers", 11),
                 ("Learner profiles at scale", 11), ("Capstone rubrics", 11),
                 ("An October brief", 10)], 1)
        ]  # fmt: skip
        store.sources.record_poll("Alder Institute", entries, datetime(2026, 11, 30, tzinfo=UTC))
        decided = {1: "Policy", 2: "Equity", 3: "Policy", 6: "Equity"}
        for n, topic in decided.items():
            blurb = f"Alder Institute writes about piece {n}."
            store.decisions.set(n, {"status": "accepted", "topic": topic, "blurb": blurb}, "ann")
        add_user(store, "alice", PASSWORD)
        add_user(store, "bob", PASSWORD)


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = write_config(tmp_path, TOPICS)
    seed_issue_items(path)
    return path


def run(config: Path, *args: str, stdin: str | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], input=stdin)
    return result.exit_code, result.output


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    with smtp_server(handler) as port:
        yield handler, port


def smtp_config(config: Path, port: int) -> None:
    text = config.read_text()
    config.write_text(
        text + f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  starttls: false\n"
        "newsletter:\n  from: news@example.org\n  base_url: https://news.example.org/\n"
    )


# -- from a shell ---------------------------------------------------------------------


def test_show_approve_build_and_export_from_a_shell(config: Path, tmp_path: Path) -> None:
    code, out = run(config, "issue", "show", "--month", MONTH)
    assert code == 0 and "not started yet" in out and "Mastery grading year one" in out
    with Store(load_config(config).db_path) as store:
        assert store.issues.latest(MONTH) is None  # showing never writes
    assert run(config, "issue", "build", "--month", MONTH)[0] == 1  # not approved yet
    assert run(config, "issue", "carry-over", "--month", MONTH) == (
        0,
        f"carried over 1 item into the {MONTH} issue\n",
    )
    code, out = run(config, "issue", "approve", "--month", MONTH)
    assert (code, out) == (0, f"approved the {MONTH} issue (revision 1)\n")
    code, out = run(config, "issue", "show", "--month", MONTH, "--json")
    shown = __import__("json").loads(out)
    assert shown["status"] == "approved" and shown["stored"] is True
    assert [[e["item_id"] for e in s["entries"]] for s in shown["sections"]] == [[1, 3], [2, 6]]
    out_dir = tmp_path / "site"
    assert run(config, "issue", "build", "--month", MONTH, "--out", str(out_dir))[0] == 0
    page = (out_dir / "issues" / MONTH / "index.html").read_text()
    assert "Mastery grading year one" in page and "<script>alert(1)" not in page
    assert (out_dir / "index.html").exists() and (out_dir / "feed.xml").exists()
    code, markdown = run(config, "issue", "export", "--month", MONTH, "--format", "markdown")
    assert code == 0 and "Policy" in markdown and "https://alder.example.org/p/1" in markdown
    code, html = run(config, "issue", "export", "--month", MONTH, "--format", "html")
    assert code == 0 and "<html" not in html.lower() and "alder.example.org/p/3" in html


@pytest.mark.parametrize(
    ("args", "code"),
    [
        (("issue", "show", "--month", "2026-13"), 2),
        (("issue", "approve"), 2),
        (("send", "--month", MONTH, "--to", "ed@example.org", "--status"), 2),
    ],
)
def test_bad_usage_exits_2(config: Path, args: tuple[str, ...], code: int) -> None:
    assert run(config, *args)[0] == code


def test_a_test_copy_arrives_as_text_then_html(config: Path, inbox: tuple) -> None:
    handler, port = inbox
    smtp_config(config, port)
    code, out = run(config, "send", "--month", MONTH, "--to", "editor@example.org")
    assert code == 0, out
    [message] = handler.wait_for("editor@example.org")
    assert message["To"] == "editor@example.org" and message["Subject"].startswith("[Test] ")
    assert "news@example.org" in message["From"]
    assert message.get_content_type() == "multipart/alternative"
    parts = [part.get_content_type() for part in message.get_payload()]
    assert parts == ["text/plain", "text/html"]
    text = message.get_payload()[0].get_payload(decode=True).decode()
    assert "https://alder.example.org/p/1" in text


def test_a_test_copy_that_cannot_be_sent_says_why(config: Path) -> None:
    smtp_config(config, free_port())  # nothing listens there
    code, out = run(config, "send", "--month", MONTH, "--to", "editor@example.org")
    assert code == 1 and "editor@example.org" in out and "127.0.0.1" in out


# -- over HTTP ------------------------------------------------------------------------


@pytest.fixture
def served(config: Path) -> Iterator:
    app = start_serve(config, "--no-scheduler")
    yield app
    app.stop()


def editor_form(client: httpx.Client, month: str = MONTH) -> tuple[str, str]:
    page = client.get(f"/issues/{month}/edit").text
    version = re.search(r'name="version" value="(\d+)"', page)
    assert version, page[:500]
    return csrf_from(page), version.group(1)


def test_the_editor_over_http(served) -> None:
    alice, bob = logged_in(served, "alice"), logged_in(served, "bob")
    start = alice.get(f"/issues/{MONTH}/edit")
    assert start.status_code == 200 and "Start the" in start.text
    with served.store() as store:
        assert store.issues.latest(MONTH) is None  # the GET wrote nothing
    token = csrf_from(start.text)
    opened = alice.post("/issues", data={"month": MONTH, "csrf_token": token})
    assert opened.status_code == 303 and opened.headers["location"] == f"/issues/{MONTH}/edit"
    token, version = editor_form(alice)
    blurb = {"action": "blurb", "url": "https://alder.example.org/p/1",
             "blurb": "A *new* [brief](https://alder.example.org/p/1).", "version": version,
             "csrf_token": token}  # fmt: skip
    saved = alice.post(f"/issues/{MONTH}/edit", data=blurb, headers={"HX-Request": "true"})
    assert saved.status_code == 200 and 'id="editor"' in saved.text
    bob_token, _ = editor_form(bob)
    stale = {"action": "remove_entry", "url": "https://alder.example.org/p/3",
             "version": version, "csrf_token": bob_token}  # fmt: skip
    refused = bob.post(f"/issues/{MONTH}/edit", data=stale, headers={"HX-Request": "true"})
    assert refused.status_code == 409 and "changed after you opened it" in refused.text
    with served.store() as store:
        issue = store.issues.latest(MONTH)
        assert issue is not None and issue.entries[0].blurb.startswith("A *new*")
        assert [e.item_id for e in issue.entries] == [1, 3, 2]  # bob's removal was refused
    preview = alice.get(f"/issues/{MONTH}/preview")
    assert preview.status_code == 200 and "<em>new</em>" in preview.text
    assert "frame-ancestors 'self'" in preview.headers["content-security-policy"]
    assert "script-src" not in preview.headers["content-security-policy"]
    assert "<script>alert(1)" not in preview.text
    bad = alice.post(f"/issues/{MONTH}/edit", data={**blurb, "action": "fly"})
    assert bad.status_code == 400


def test_the_public_archive_needs_no_login(served, config: Path) -> None:
    public = httpx.Client(base_url=served.url, timeout=10)
    assert public.get(f"/issues/{MONTH}/").status_code == 404  # nothing published yet
    assert run(config, "issue", "approve", "--month", MONTH)[0] == 0
    archive = public.get("/")
    assert archive.status_code == 200 and f"/issues/{MONTH}/" in archive.text
    page = public.get(f"/issues/{MONTH}/")
    assert page.status_code == 200 and "Seat time waivers" in page.text
    assert "<script>alert(1)</script>" not in page.text
    assert "script-src" not in page.headers["content-security-policy"]
    parsed = feedparser.parse(public.get("/feed.xml").content)
    assert not parsed.bozo and len(parsed.entries) == 1
    for private in (f"/issues/{MONTH}/edit", "/issues", f"/issues/{MONTH}/preview"):
        assert public.get(private).status_code == 303, private


def test_check_names_every_failing_link_and_placeholder_and_exits_1(
    tmp_path: Path, site: SiteServer
) -> None:
    site.add("/fine", Route("<html><body><p>Fine.</p></body></html>", content_type="text/html"))
    config = write_config(tmp_path, TOPICS, [site.host_port])  # /gone: 404 from the server
    with Store(load_config(config).db_path) as store:
        store.sources.sync([("Local", site.url("/feed"), "feed")])
        entries = [
            Entry(url=site.url(path), title=title, published=datetime(2026, 11, 9, tzinfo=UTC))
            for path, title in (("/fine", "A fine page"), ("/gone", "A gone page"))
        ]
        store.sources.record_poll("Local", entries, datetime(2026, 11, 30, tzinfo=UTC))
        store.decisions.set(1, {"status": "accepted", "topic": "Policy", "blurb": "Fine."}, "a")
        store.decisions.set(2, {"status": "accepted", "topic": "Equity"}, "a")  # no blurb
    code, out = run(config, "issue", "check", "--month", MONTH)
    assert code == 1, out
    lines = out.splitlines()
    assert any(site.url("/gone") in line and "404" in line for line in lines), out
    assert not any(line.startswith(site.url("/fine")) for line in lines), out
    assert any("A gone page" in line and "placeholder" in line.lower() for line in lines), out
    assert lines[-1] == f"2 problems in the {MONTH} issue"


def test_a_past_roundup_imported_from_a_shell(config: Path, served) -> None:
    roundup = Path(__file__).parent / "fixtures" / "roundups" / "march-2026.html"
    known = "https://alder-institute.example.org/posts/student-authored-learner-profiles.html"
    with Store(load_config(config).db_path) as store:
        store.sources.record_poll(
            "Alder Institute", [Entry(url=known, title="Learner profiles")],
            datetime(2026, 3, 30, tzinfo=UTC),
        )  # fmt: skip
        [known_id] = [i.id for i in store.items.find() if i.url == known]
        store.db.execute("DROP TABLE IF EXISTS sqlite_stat1")  # whatever ran before
    code, out = run(config, "issue", "import", str(roundup), "--month", "2026-03")
    assert code == 0 and "(1 linked to known items)" in out, out
    # The import refreshed the query planner's statistics: its one item tied to the issue.
    assert planner_stats(load_config(config).db_path)["idx_issue_items_month"].split()[0] == "1"
    assert run(config, "issue", "import", str(roundup), "--month", "2026-03")[0] == 1  # once
    with Store(load_config(config).db_path) as store:
        issue = store.issues.latest("2026-03")
        assert issue is not None and issue.status == "sent"
        assert {e.item_id for e in issue.entries} == {None, known_id}
        assert known_id in store.issues.used_items()
    page = httpx.get(f"{served.url}/issues/2026-03/")
    assert page.status_code == 200 and "flexible-pacing-algebra" in page.text

"""Sending the approved issue to the list, against a real SMTP server (aiosmtpd on
127.0.0.1) and a real SQLite file: the message's headers and MIME structure, one-click
unsubscribe honoured by the next send, 451 retried, 550 failed and counted as a bounce,
the rate, a `kill -9` half-way and a second run that skips nobody and re-sends at most
the messages that were in flight, and the errors that stop a send before it starts."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest
from aiosmtpd.smtp import AuthResult
from click.testing import CliRunner

from cbewatch.cli import cli
from cbewatch.config import load_config
from cbewatch.locks import sending
from cbewatch.model.times import to_iso, utc_now
from cbewatch.services.accounts import add_user
from cbewatch.store import Store

from .conftest import (
    PASSWORD,
    Inbox,
    child_env,
    csrf_from,
    logged_in,
    smtp_server,
    start_serve,
    write_config,
)
from .issue_samples import sample_issue

MONTH = "2026-11"
NEXT = "2026-12"
BASE = "https://news.example.org/"


def send_config(folder: Path, port: int, smtp: str = "", subscribers: int = 0) -> Path:
    """A config whose SMTP server is ours, the November issue approved, and `subscribers`
    confirmed addresses s0@example.org, s1@example.org, …"""
    config = write_config(
        folder,
        "topics:\n  - name: Policy\n"
        f"smtp:\n  host: 127.0.0.1\n  port: {port}\n  starttls: false\n  retry_delay: 0.05\n"
        f"{smtp}"
        "newsletter:\n  title: The CBE Roundup\n  from: news@example.org\n"
        f"  reply_to: editors@example.org\n  base_url: {BASE}\n",
    )
    with Store(load_config(config).db_path) as store:
        approve(store, MONTH)
        addresses = [(f"s{n}@example.org", "") for n in range(subscribers)]
        store.subscribers.import_rows(addresses, "confirmed", "test")
    return config


def approve(store: Store, month: str) -> None:
    """The sample issue, approved; its entries hold no items of this database."""
    issue = sample_issue(month)
    sections = tuple(
        replace(s, entries=tuple(replace(e, item_id=None) for e in s.entries))
        for s in issue.sections
    )
    store.issues.add(
        replace(issue, sections=sections, status="approved", approved_at=to_iso(utc_now()))
    )


def run(config: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.output


def store_of(config: Path) -> Store:
    return Store(load_config(config).db_path)


@pytest.fixture
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    with smtp_server(handler) as port:
        yield handler, port


def test_each_subscriber_gets_one_well_formed_message(tmp_path: Path, inbox) -> None:
    handler, port = inbox
    config = send_config(tmp_path, port, subscribers=3)
    with store_of(config) as store:
        store.subscribers.add("eva@bücher.example", status="confirmed")  # sent as xn--
        store.subscribers.add("waiting@example.org", status="pending")
        gone = store.subscribers.add("gone@example.org", status="confirmed")
        store.subscribers.set_status(gone.id, "unsubscribed")

    code, out = run(config, "send", "--month", MONTH)

    assert code == 0, out
    assert out.startswith(f"sent the {MONTH} issue to 4 subscribers"), out
    assert sorted(r for rcpts, _ in handler.messages for r in rcpts) == [
        "eva@xn--bcher-kva.example",
        "s0@example.org",
        "s1@example.org",
        "s2@example.org",
    ]
    links = set()
    for rcpts, message in handler.messages:
        assert message["To"] == rcpts[0]
        assert message["From"] == "The CBE Roundup <news@example.org>"
        assert message["Reply-To"] == "editors@example.org"
        assert message["Subject"] == "What's New in K-12 Competency-Based Education — November 2026"
        assert message["Date"] and re.fullmatch(r"<[^@>]+@example\.org>", message["Message-ID"])
        assert message["List-Id"] == '"The CBE Roundup" <the-cbe-roundup.example.org>'
        assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        https, mailto = re.fullmatch(r"<([^>]+)>, <([^>]+)>", message["List-Unsubscribe"]).groups()
        assert https.startswith(f"{BASE}unsubscribe/") and mailto.startswith("mailto:news@")
        links.add(https)
        assert message.get_content_type() == "multipart/alternative"
        text, html = message.get_payload()
        assert [text.get_content_type(), html.get_content_type()] == ["text/plain", "text/html"]
        assert text["Content-Transfer-Encoding"] == "quoted-printable"
        assert html["Content-Transfer-Encoding"] == "quoted-printable"
        for part in (text, html):
            body = part.get_payload(decode=True).decode()
            assert https in body and "%%unsubscribe_url%%" not in body
    assert len(links) == 4  # each recipient their own link

    assert run(config, "send", "--status", "--month", MONTH)[1].startswith(
        "queued 0, sending 0, sent 4, failed 0"
    )
    with store_of(config) as store:
        assert store.issues.published(MONTH)[0].status == "sent"
    code, out = run(config, "send", "--month", MONTH)  # again: nobody twice
    assert code == 0 and out.startswith(f"sent the {MONTH} issue to 0 subscribers")
    assert len(handler.messages) == 4


def test_one_click_unsubscribe_is_honoured_by_the_next_send(tmp_path: Path, inbox) -> None:
    handler, port = inbox
    config = send_config(tmp_path, port, subscribers=2)
    assert run(config, "send", "--month", MONTH)[0] == 0
    [message] = handler.to("s1@example.org")
    link = re.match(r"<([^>]+)>", message["List-Unsubscribe"]).group(1)

    app = start_serve(config, "--no-scheduler")
    try:  # what a mail client's one-click does: a bare POST, no session, no CSRF token
        answer = httpx.post(
            app.url + urlparse(link).path,
            data={"List-Unsubscribe": "One-Click"},
            timeout=20,
        )
    finally:
        app.stop()
    assert answer.status_code == 200

    with store_of(config) as store:
        assert store.subscribers.by_email("s1@example.org").status == "unsubscribed"
        approve(store, NEXT)
    assert run(config, "send", "--month", NEXT)[0] == 0
    assert len(handler.to("s0@example.org")) == 2
    assert len(handler.to("s1@example.org")) == 1  # November's only


def test_a_451_is_tried_again_and_a_550_fails_and_bounces(tmp_path: Path) -> None:
    handler = Inbox(
        refuse={"s1@example.org": "550 5.1.1 No such user"},
        later={"s2@example.org": 1, "s3@example.org": 2},
    )
    with smtp_server(handler) as port:
        config = send_config(tmp_path, port, subscribers=5)
        code, out = run(config, "send", "--month", MONTH)
        assert code == 0, out  # done: what failed, failed for good
        assert "sent the 2026-11 issue to 4 subscribers" in out
        assert "1 failed: s1@example.org (550 5.1.1 No such user)" in out
        assert Counter(r for rcpts, _ in handler.messages for r in rcpts) == {
            "s0@example.org": 1,
            "s2@example.org": 1,
            "s3@example.org": 1,
            "s4@example.org": 1,
        }
        with store_of(config) as store:
            assert store.deliveries.get(MONTH, 4).attempts == 3  # s3: 451, 451, sent
            failed = store.deliveries.find(MONTH, "failed")
            assert [(d.email, d.error) for d in failed] == [
                ("s1@example.org", "550 5.1.1 No such user")
            ]
            assert store.subscribers.by_email("s1@example.org").status == "confirmed"
            approve(store, NEXT)

        # a second hard bounce in a row takes the address off the list
        code, out = run(config, "send", "--month", NEXT)
        assert code == 0 and "marked bounced: s1@example.org" in out
        with store_of(config) as store:
            assert store.subscribers.by_email("s1@example.org").status == "bounced"


def test_a_451_that_lasts_leaves_the_address_for_the_next_run(tmp_path: Path) -> None:
    handler = Inbox(later={"s0@example.org": 99})
    with smtp_server(handler) as port:
        config = send_config(tmp_path, port, subscribers=2)
        code, out = run(config, "send", "--month", MONTH)
        assert code == 1  # not done: cron runs it again
        assert "1 left for the next `cbewatch send`" in out
        handler.later.clear()
        code, out = run(config, "send", "--month", MONTH)
        assert code == 0 and out.startswith(f"sent the {MONTH} issue to 1 subscribers")
    assert len(handler.to("s0@example.org")) == 1 and len(handler.to("s1@example.org")) == 1


def test_the_rate_is_kept(tmp_path: Path, inbox) -> None:
    handler, port = inbox
    config = send_config(tmp_path, port, smtp="  rate: 20\n  concurrency: 4\n", subscribers=30)
    assert run(config, "send", "--month", MONTH)[0] == 0
    times = handler.times
    assert len(times) == 30
    # 20 starts a second: 30 messages span at least 29 gaps of 1/20 s (less a little:
    # the server stamps a message when its DATA ends), and no second at the server holds
    # more than 20 plus the 4 that may have been in flight on the connections
    assert times[-1] - times[0] >= 29 / 20 * 0.9
    assert max(sum(1 for t in times if start <= t < start + 1) for start in times) <= 20 + 4


def test_kill_9_half_way_then_send_again_skips_nobody(tmp_path: Path, inbox) -> None:
    handler, port = inbox
    total = 500
    config = send_config(tmp_path, port, smtp="  rate: 150\n", subscribers=total)
    command = [sys.executable, "-m", "cbewatch", "--config", str(config), "send"]
    first = subprocess.Popen(
        [*command, "--month", MONTH], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        env=child_env(),
    )  # fmt: skip
    deadline = time.monotonic() + 60
    while len(handler.messages) < total * 0.4 and time.monotonic() < deadline:
        time.sleep(0.005)
    first.send_signal(signal.SIGKILL)
    first.wait(10)
    got_before = len(handler.messages)
    assert total * 0.4 <= got_before < total, "the kill came too late to test anything"

    second = subprocess.run(
        [*command, "--month", MONTH], capture_output=True, text=True, env=child_env(),
        timeout=120,
    )  # fmt: skip
    assert second.returncode == 0, second.stderr

    received = Counter(r for rcpts, _ in handler.messages for r in rcpts)
    assert set(received) == {f"s{n}@example.org" for n in range(total)}  # nobody skipped
    twice = {who for who, count in received.items() if count > 1}
    assert max(received.values()) <= 2  # at most one duplicate for the one crash
    named = set(re.findall(r"[\w.]+@example\.org", second.stdout.split("re-sent", 1)[-1]))
    assert twice <= named  # every address that may have it twice is named
    status = subprocess.run(
        [*command, "--status", "--month", MONTH], capture_output=True, text=True,
        env=child_env(),
    )  # fmt: skip
    assert status.stdout.startswith(f"queued 0, sending 0, sent {total}, failed 0")


def test_what_stops_a_send_before_it_starts(tmp_path: Path, inbox) -> None:
    _, port = inbox
    config = send_config(tmp_path, port, subscribers=2)
    code, out = run(config, "send", "--month", NEXT)
    assert code == 1 and "the 2026-12 issue is not approved" in out

    with sending(load_config(config).data_dir):
        code, out = run(config, "send", "--month", MONTH)
    assert code == 1 and "another cbewatch is sending" in out

    (tmp_path / "login").mkdir()
    secret = send_config(tmp_path / "login", port, smtp="  username: news\n", subscribers=1)
    code, out = run(secret, "send", "--month", MONTH)
    assert code == 1 and "SMTP_PASSWORD holds no password" in out
    with store_of(secret) as store:
        assert store.deliveries.counts(MONTH)["queued"] == 0  # nothing queued, nothing lost


def test_a_server_that_is_down_stops_the_run_and_loses_nobody(tmp_path: Path) -> None:
    with smtp_server(Inbox()) as port:
        pass  # closed again: nothing listens on the port now
    config = send_config(tmp_path, port, subscribers=20)
    code, out = run(config, "send", "--month", MONTH)
    assert code == 1
    assert f"stopped: the SMTP server 127.0.0.1:{port} cannot be reached" in out
    assert "20 left for the next `cbewatch send`" in out
    handler = Inbox()
    with smtp_server(handler) as again:
        config.write_text(config.read_text().replace(f"port: {port}", f"port: {again}"))
        assert run(config, "send", "--month", MONTH)[0] == 0
    assert len(handler.messages) == 20


def test_the_issue_page_sends_after_a_confirmation_and_follows_the_counts(
    tmp_path: Path, inbox
) -> None:
    handler, port = inbox
    config = send_config(tmp_path, port, subscribers=3)
    with store_of(config) as store:
        add_user(store, "alice", PASSWORD)
    app = start_serve(config, "--no-scheduler")
    try:
        client = logged_in(app)
        page = client.get(f"/issues/{MONTH}/edit").text
        assert "Send to 3 subscribers" in page
        csrf = csrf_from(page)

        unticked = client.post(f"/issues/{MONTH}/send", data={"csrf_token": csrf})
        assert unticked.status_code == 400 and "Nothing was sent" in unticked.text
        sent = client.post(f"/issues/{MONTH}/send", data={"csrf_token": csrf, "confirm": "yes"})
        assert sent.status_code == 200 and f"Sending the {MONTH} issue" in sent.text

        deadline = time.monotonic() + 30
        while "Sending now" in (box := client.get(f"/issues/{MONTH}/delivery").text):
            assert 'hx-trigger="every 2s"' in box  # the page keeps asking while it runs
            assert time.monotonic() < deadline
            time.sleep(0.1)
    finally:
        app.stop()
    assert re.search(r'sent <strong class="sent">3</strong>.*left <strong class="left">0', box)
    assert f"sent the {MONTH} issue to 3 subscribers" in box and "every 2s" not in box
    assert "Nothing left to send" in box and 'id="send"' not in box
    assert len(handler.messages) == 3


def test_the_login_takes_its_password_from_the_environment(tmp_path: Path) -> None:
    logins: list[tuple[bytes, bytes]] = []

    def authenticator(server, session, envelope, mechanism, auth_data) -> AuthResult:
        logins.append((auth_data.login, auth_data.password))
        return AuthResult(success=auth_data.password == b"s3cret", handled=False)

    handler = Inbox()
    options = {"authenticator": authenticator, "auth_require_tls": False}
    with smtp_server(handler, **options) as port:
        config = send_config(
            tmp_path, port, smtp="  username: news\n  password_env: NEWS_SMTP\n", subscribers=2
        )
        wrong = CliRunner(env={"NEWS_SMTP": "guess"}).invoke(
            cli, ["--config", str(config), "send", "--month", MONTH]
        )
        assert wrong.exit_code == 1 and "refused the login of news" in wrong.output
        assert "guess" not in wrong.output  # a password never appears in a message
        right = CliRunner(env={"NEWS_SMTP": "s3cret"}).invoke(
            cli, ["--config", str(config), "send", "--month", MONTH]
        )
        assert right.exit_code == 0 and "to 2 subscribers" in right.output
    assert (b"news", b"s3cret") in logins and len(handler.messages) == 2

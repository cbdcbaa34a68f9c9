"""Subscribing, confirming and unsubscribing over HTTP on a real `cbewatch serve`, a real
SQLite file and a real SMTP server (aiosmtpd on 127.0.0.1) that catches the emails:
double opt-in end to end, answers that never tell who is on the list, the honeypot, the
rate limit, one-click unsubscribe, and the curators' page."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from email.message import Message
from pathlib import Path

import httpx
import pytest
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from cbewatch.config import load_config
from cbewatch.mail import tokens as tokens_module
from cbewatch.mail.links import unsubscribe_url
from cbewatch.mail.tokens import Tokens, load_mail_secret
from cbewatch.model.types import Subscriber
from cbewatch.services.accounts import add_user
from cbewatch.store import Store

from .conftest import (
    PASSWORD,
    Inbox,
    Served,
    csrf_from,
    free_port,
    logged_in,
    serve_config,
    smtp_server,
    start_serve,
)

BASE = "https://news.example.org/"


@pytest.fixture(scope="module")
def inbox() -> Iterator[tuple[Inbox, int]]:
    handler = Inbox()
    with smtp_server(handler) as port:
        yield handler, port


def mail_config(folder: Path, smtp_port: int) -> Path:
    config = serve_config(folder)
    config.write_text(
        config.read_text()
        + f"smtp:\n  host: 127.0.0.1\n  port: {smtp_port}\n  starttls: false\n"
        + f"newsletter:\n  title: The CBE Roundup\n  from: news@example.org\n  base_url: {BASE}\n"
    )
    with Store(load_config(config).db_path) as store:
        add_user(store, "alice", PASSWORD)
    return config


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, inbox: tuple[Inbox, int]) -> Iterator[Served]:
    config = mail_config(tmp_path_factory.mktemp("subs"), inbox[1])
    # the tests stand for a proxy on 127.0.0.1 naming many clients in X-Forwarded-For
    app = start_serve(config, "--no-scheduler", "--forwarded-allow-ips", "127.0.0.1")
    yield app
    app.stop()


def client(served: Served, address: str) -> httpx.Client:
    """A stranger without a cookie, seen by serve as `address` (each test its own, as if
    behind the proxy docs/deploy.md sets up), so the form's limits do not mix tests."""
    return httpx.Client(base_url=served.url, timeout=20, headers={"x-forwarded-for": address})


def subscriber(served: Served, address: str) -> Subscriber | None:
    with served.store() as store:
        return store.subscribers.by_email(address)


def confirm_link(message: Message) -> str:
    text = message.get_payload(decode=True).decode()
    match = re.search(r"(\S+/subscribe/confirm\?token=\S+)", text)
    assert match, text
    return match.group(1)


def local(url: str) -> str:
    """A link from an email (on the public base URL) as a path on the served app."""
    assert url.startswith(BASE), url
    return "/" + url.removeprefix(BASE)


def tokens_of(served: Served) -> Tokens:
    return Tokens(load_mail_secret(load_config(served.config).data_dir))


# -- double opt-in --------------------------------------------------------------------


def test_double_opt_in_end_to_end(served: Served, inbox: tuple[Inbox, int]) -> None:
    handler, _ = inbox
    stranger = client(served, "192.0.2.1")
    answer = stranger.post("/subscribe", data={"email": "Ann.Lee@Example.org", "name": "Ann"})
    assert answer.status_code == 200 and "Check your inbox" in answer.text
    assert "set-cookie" not in answer.headers  # a public page keeps no session
    assert "script-src" not in answer.headers["content-security-policy"]
    [message] = handler.wait_for("ann.lee@example.org")
    assert message["To"] == "ann.lee@example.org" and "news@example.org" in message["From"]
    assert message["Subject"] == "Confirm your subscription to The CBE Roundup"
    assert message.get_content_type() == "text/plain" and "Ann" not in message.get_payload()
    link = confirm_link(message)
    assert link.startswith(f"{BASE}subscribe/confirm?token=")
    found = subscriber(served, "ann.lee@example.org")
    assert found is not None and (found.status, found.name, found.source) == (
        "pending",
        "Ann",
        "form",
    )
    # A mail scanner follows the link: the page shows a button and confirms nothing.
    page = stranger.get(local(link))
    assert page.status_code == 200 and 'id="confirm"' in page.text
    assert "ann.lee@example.org" in page.text and "set-cookie" not in page.headers
    assert subscriber(served, "ann.lee@example.org").status == "pending"
    token = link.split("token=", 1)[1]
    done = stranger.post("/subscribe/confirm", data={"token": token})
    assert done.status_code == 200 and "You are subscribed" in done.text
    confirmed = subscriber(served, "ann.lee@example.org")
    assert confirmed.status == "confirmed" and confirmed.confirmed and confirmed.source == "form"
    again = stranger.post("/subscribe/confirm", data={"token": token})  # twice is fine
    assert again.status_code == 200
    assert subscriber(served, "ann.lee@example.org").confirmed == confirmed.confirmed


def old_token(served: Served, subscriber_id: int, address: str, days: float) -> str:
    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days * 86400)

    secret = load_mail_secret(load_config(served.config).data_dir)
    signer = URLSafeTimedSerializer(secret, salt=tokens_module._CONFIRM, signer=Earlier)
    return signer.dumps([subscriber_id, address])


def test_expired_and_forged_confirmation_links_are_refused_with_a_page(
    served: Served, inbox: tuple[Inbox, int]
) -> None:
    stranger = client(served, "192.0.2.2")
    assert stranger.post("/subscribe", data={"email": "late@example.org"}).status_code == 200
    inbox[0].wait_for("late@example.org")
    late = subscriber(served, "late@example.org")
    expired = old_token(served, late.id, late.email, days=8)
    forged = Tokens("not our key").confirm_token(late.id, late.email)
    other_purpose = tokens_of(served).unsubscribe_token(late.id, late.email)
    for token, says in [(expired, "has expired"), (forged, "not valid"),
                        (other_purpose, "not valid"), ("", "not valid")]:  # fmt: skip
        shown = stranger.get("/subscribe/confirm", params={"token": token})
        assert shown.status_code == 400 and says in shown.text, token
        assert 'id="confirm"' not in shown.text and "Subscribe again" in shown.text
        posted = stranger.post("/subscribe/confirm", data={"token": token})
        assert posted.status_code == 400 and says in posted.text
    assert subscriber(served, "late@example.org").status == "pending"
    # A link made before the address was removed does not confirm whoever has its id now.
    with served.store() as store:
        store.subscribers.remove([late.id])
    stale = tokens_of(served).confirm_token(late.id, late.email)
    assert stranger.post("/subscribe/confirm", data={"token": stale}).status_code == 400


def test_the_answer_is_the_same_whoever_is_on_the_list(
    served: Served, inbox: tuple[Inbox, int]
) -> None:
    handler, _ = inbox
    with served.store() as store:
        store.subscribers.add("member@example.org", "Member", "confirmed", "cli")
        gone = store.subscribers.add("gone@example.org", "", "confirmed", "cli")
        store.subscribers.set_status(gone.id, "unsubscribed")
    stranger = client(served, "192.0.2.3")
    answers = [
        stranger.post("/subscribe", data={"email": address, "name": "Someone <b>"})
        for address in ("new@example.org", "member@example.org", "gone@example.org")
    ]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert answers[0].text == answers[1].text == answers[2].text
    assert {k: v for k, v in answers[0].headers.items() if k not in ("date", "content-length")} == {
        k: v for k, v in answers[1].headers.items() if k not in ("date", "content-length")
    }
    # The member gets a note (with a way out), not a confirmation; the list is unchanged.
    [note] = handler.wait_for("member@example.org")
    assert note["Subject"] == "You are subscribed to The CBE Roundup"
    body = note.get_payload(decode=True).decode()
    assert f"{BASE}unsubscribe/" in body and "confirm" not in body.lower().split("unsub")[0]
    member = subscriber(served, "member@example.org")
    assert (member.status, member.name) == ("confirmed", "Member")
    # Someone who had unsubscribed asks again: pending, and asked to confirm.
    [ask] = handler.wait_for("gone@example.org")
    assert "/subscribe/confirm?token=" in ask.get_payload(decode=True).decode()
    back = subscriber(served, "gone@example.org")
    assert (back.status, back.unsubscribed, back.confirmed) == ("pending", None, None)


def test_the_honeypot_sends_nothing_and_answers_the_same(
    served: Served, inbox: tuple[Inbox, int]
) -> None:
    stranger = client(served, "192.0.2.4")
    normal = stranger.post("/subscribe", data={"email": "human@example.org"})
    bot = stranger.post(
        "/subscribe", data={"email": "bot@example.org", "website": "http://spam.example"}
    )
    assert bot.status_code == normal.status_code == 200 and bot.text == normal.text
    inbox[0].wait_for("human@example.org")
    time.sleep(0.5)
    assert inbox[0].to("bot@example.org") == []
    assert subscriber(served, "bot@example.org") is None


def test_a_bad_address_gets_the_form_back_with_a_sentence(served: Served) -> None:
    stranger = client(served, "192.0.2.5")
    page = stranger.post("/subscribe", data={"email": "ann@", "name": "<script>x</script>"})
    assert page.status_code == 400
    assert "&#39;ann@&#39; is not an email address" in page.text and 'id="subscribe"' in page.text
    assert "<script>x" not in page.text
    form = stranger.get("/subscribe")
    assert form.status_code == 200 and 'name="website"' in form.text


def test_the_form_is_rate_limited_per_address(served: Served) -> None:
    stranger = client(served, "198.51.100.7")
    codes = [stranger.post("/subscribe", data={"email": "x@"}).status_code for _ in range(6)]
    assert codes == [400] * 5 + [429]
    refused = stranger.post("/subscribe", data={"email": "fine@example.org"})
    assert refused.status_code == 429 and "Wait an hour" in refused.text
    assert subscriber(served, "fine@example.org") is None
    assert "subscribe refused (rate limit) from 198.51.100.7" in served.log.read_text()
    neighbour = client(served, "198.51.100.8")
    assert neighbour.post("/subscribe", data={"email": "x@"}).status_code == 400


def test_an_internationalized_domain_is_mailed_in_ascii(
    served: Served, inbox: tuple[Inbox, int]
) -> None:
    stranger = client(served, "192.0.2.6")
    assert stranger.post("/subscribe", data={"email": "Eva@Bücher.example"}).status_code == 200
    [message] = inbox[0].wait_for("eva@xn--bcher-kva.example")
    assert message["To"] == "eva@xn--bcher-kva.example"
    assert subscriber(served, "eva@bücher.example").status == "pending"


# -- unsubscribe ----------------------------------------------------------------------


def test_one_click_unsubscribe(served: Served) -> None:
    with served.store() as store:
        reader = store.subscribers.add("reader@example.org", "", "confirmed", "cli")
    settings = load_config(served.config)
    link = unsubscribe_url(settings, tokens_of(served), reader)
    stranger = client(served, "192.0.2.8")
    page = stranger.get(local(link))
    assert page.status_code == 200 and 'id="unsubscribe"' in page.text
    assert "reader@example.org" in page.text and "set-cookie" not in page.headers
    assert subscriber(served, "reader@example.org").status == "confirmed"  # GET changed nothing
    # What a mail client sends (RFC 8058): a POST with this body, no cookie, no CSRF token.
    one_click = httpx.post(
        served.url + local(link), data={"List-Unsubscribe": "One-Click"}, timeout=20
    )
    assert one_click.status_code == 200 and "You are unsubscribed" in one_click.text
    gone = subscriber(served, "reader@example.org")
    assert gone.status == "unsubscribed" and gone.unsubscribed
    again = httpx.post(served.url + local(link), data={"List-Unsubscribe": "One-Click"})
    assert again.status_code == 200  # twice is fine, and keeps the first date
    assert subscriber(served, "reader@example.org").unsubscribed == gone.unsubscribed
    forged = Tokens("not our key").unsubscribe_token(reader.id, reader.email)
    for token in (forged, "nonsense", tokens_of(served).confirm_token(reader.id, reader.email)):
        refused = httpx.post(f"{served.url}/unsubscribe/{token}", data={})
        assert refused.status_code == 400 and "not valid" in refused.text
        assert httpx.get(f"{served.url}/unsubscribe/{token}").status_code == 400


# -- who may see what -----------------------------------------------------------------


def test_subscribers_is_private_and_the_subscribers_routes_public(served: Served) -> None:
    stranger = client(served, "192.0.2.9")
    for path in ("/subscribers", "/subscribers?status=confirmed"):
        response = stranger.get(path)
        assert response.status_code == 303 and response.headers["location"].startswith("/login")
    posted = stranger.post("/subscribers", data={"action": "add", "email": "z@example.org"})
    assert posted.status_code == 303 and subscriber(served, "z@example.org") is None
    for path in ("/subscribe", "/subscribe/confirm?token=x", "/unsubscribe/x"):
        assert stranger.get(path).status_code in (200, 400), path
    archive = stranger.get("/")
    assert archive.status_code == 200
    assert f'action="{BASE}subscribe"' in archive.text and 'name="website"' in archive.text
    assert f"form-action 'self' {BASE.rstrip('/')}" in archive.headers["content-security-policy"]


def test_the_curators_page(served: Served, inbox: tuple[Inbox, int]) -> None:
    alice = logged_in(served)
    page = alice.get("/subscribers")
    assert page.status_code == 200 and 'href="/subscribers"' in page.text
    token = csrf_from(page.text)
    without = alice.post("/subscribers", data={"action": "add", "email": "c1@example.org"})
    assert without.status_code == 403 and subscriber(served, "c1@example.org") is None
    added = alice.post(
        "/subscribers",
        data={"action": "add", "email": "c1@example.org", "consented": "yes", "csrf_token": token},
    )
    assert added.status_code == 303 and added.headers["location"] == "/subscribers?notice=added"
    c1 = subscriber(served, "c1@example.org")
    assert (c1.status, c1.source) == ("confirmed", "curator:alice")
    asked = alice.post(
        "/subscribers", data={"action": "add", "email": "c2@example.org", "csrf_token": token}
    )
    assert asked.headers["location"] == "/subscribers?notice=asked"
    assert subscriber(served, "c2@example.org").status == "pending"
    inbox[0].wait_for("c2@example.org")
    bad = alice.post("/subscribers", data={"action": "add", "email": "c3@", "csrf_token": token})
    assert bad.status_code == 400 and "is not an email address" in bad.text
    with served.store() as store:
        counts = store.subscribers.counts()
    shown = alice.get("/subscribers").text
    for status, count in counts.items():
        assert f'<td id="count-{status}">{count}</td>' in shown
    assert shown.index("c2@example.org") < shown.index("c1@example.org")  # newest first
    removed = alice.post(
        "/subscribers", data={"action": "remove", "id": str(c1.id), "csrf_token": token}
    )
    assert removed.headers["location"] == "/subscribers?notice=removed"
    assert subscriber(served, "c1@example.org") is None
    assert alice.get("/subscribers?status=pending").status_code == 200


# -- the mail server is down ----------------------------------------------------------


def test_a_mail_server_that_is_down_gets_a_try_later_page(tmp_path: Path) -> None:
    app = start_serve(mail_config(tmp_path, free_port()), "--no-scheduler")  # nothing there
    try:
        stranger = client(app, "192.0.2.10")
        answer = stranger.post("/subscribe", data={"email": "patient@example.org"})
        assert answer.status_code == 503 and "try again in a few minutes" in answer.text
        assert "confirmation email was not sent" in app.log.read_text()
        assert subscriber(app, "patient@example.org").status == "pending"
    finally:
        app.stop()

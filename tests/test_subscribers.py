"""The subscriber list's parts without a server: the opt-in rules as tables, the signed
tokens (expiry, forgery, one purpose each), the URL helpers, CSV lists read and written,
which paths are public, the subscribe form's limits, and `cbewatch subscribers …` on a
real SQLite file."""

from __future__ import annotations

import csv
import io
import json
import time
from pathlib import Path

import pytest
from click.testing import CliRunner
from itsdangerous import TimestampSigner, URLSafeTimedSerializer

from cbewatch.cli import cli
from cbewatch.config import load_config
from cbewatch.errors import SubscriberError
from cbewatch.mail import tokens as tokens_module
from cbewatch.mail.links import confirm_url, mail_tokens, unsubscribe_url
from cbewatch.mail.lists import EXPORT_COLUMNS, read_list, write_list
from cbewatch.mail.opt_in import Step, on_add, on_confirm, on_import, on_subscribe
from cbewatch.mail.tokens import BadToken, Tokens, load_mail_secret
from cbewatch.model.types import Subscriber
from cbewatch.store import Store
from cbewatch.web.auth import SubscribeLimiter, is_public

from .conftest import planner_stats, write_config

STATUSES = (None, "pending", "confirmed", "unsubscribed", "bounced")


# -- the rules ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "step"),
    list(zip(STATUSES, [Step.ADD_PENDING, Step.REMIND, Step.NOTIFY, Step.RESUBSCRIBE,
                        Step.RESUBSCRIBE], strict=True)),
)  # fmt: skip
def test_on_subscribe(status: str | None, step: Step) -> None:
    assert on_subscribe(status) is step


@pytest.mark.parametrize(
    ("status", "step"),
    list(zip(STATUSES, [Step.REFUSE, Step.CONFIRM, Step.ALREADY, Step.REFUSE, Step.REFUSE],
             strict=True)),
)  # fmt: skip
def test_on_confirm(status: str | None, step: Step) -> None:
    assert on_confirm(status) is step


@pytest.mark.parametrize(
    ("status", "consented", "step"),
    [
        (None, False, Step.ADD_PENDING),
        (None, True, Step.ADD_CONFIRMED),
        ("pending", False, Step.REMIND),
        ("pending", True, Step.CONFIRM),
        ("confirmed", False, Step.ALREADY),
        ("confirmed", True, Step.ALREADY),
        ("unsubscribed", False, Step.RESUBSCRIBE),
        ("unsubscribed", True, Step.CONFIRM),  # the operator states they said yes again
        ("bounced", False, Step.RESUBSCRIBE),
    ],
)
def test_on_add(status: str | None, consented: bool, step: Step) -> None:
    assert on_add(status, consented) is step


@pytest.mark.parametrize(
    ("status", "consented", "step"),
    [
        (None, False, Step.ADD_PENDING),
        (None, True, Step.ADD_CONFIRMED),
        ("pending", False, Step.KEEP),
        ("pending", True, Step.CONFIRM),
        ("confirmed", True, Step.KEEP),
        ("unsubscribed", True, Step.KEEP),  # an old list never resubscribes anyone
        ("bounced", True, Step.KEEP),
    ],
)
def test_on_import(status: str | None, consented: bool, step: Step) -> None:
    assert on_import(status, consented) is step


# -- tokens ---------------------------------------------------------------------------


def old_confirm_token(secret: str, subscriber_id: int, email: str, days: float) -> str:
    """A confirmation token signed `days` ago: the serializer's signer with its clock set
    back (itsdangerous reads the moment from `get_timestamp`)."""

    class Earlier(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - days * 86400)

    serializer = URLSafeTimedSerializer(secret, salt=tokens_module._CONFIRM, signer=Earlier)
    return serializer.dumps([subscriber_id, email])


def test_tokens_round_trip_and_refuse_forgery(tmp_path: Path) -> None:
    secret = load_mail_secret(tmp_path)
    assert load_mail_secret(tmp_path) == secret  # made once
    assert (tmp_path / "mail.key").stat().st_mode & 0o777 == 0o600
    tokens = Tokens(secret)
    confirm = tokens.confirm_token(7, "ann@example.org")
    unsubscribe = tokens.unsubscribe_token(7, "ann@example.org")
    assert tokens.read_confirm(confirm) == (7, "ann@example.org")
    assert tokens.read_unsubscribe(unsubscribe) == (7, "ann@example.org")
    forged = [
        "",
        "garbage",
        confirm[:-2] + ("AA" if not confirm.endswith("AA") else "BB"),
        Tokens("another secret").confirm_token(7, "ann@example.org"),
    ]
    for token in forged:
        with pytest.raises(BadToken) as caught:
            tokens.read_confirm(token)
        assert not caught.value.expired
    # One purpose each: an unsubscribe token confirms nothing, and the other way round.
    with pytest.raises(BadToken):
        tokens.read_confirm(unsubscribe)
    with pytest.raises(BadToken):
        tokens.read_unsubscribe(confirm)
    with pytest.raises(BadToken):
        tokens.read_unsubscribe(Tokens("another").unsubscribe_token(7, "ann@example.org"))


def test_a_confirmation_token_expires_and_an_unsubscribe_token_does_not(tmp_path: Path) -> None:
    secret = load_mail_secret(tmp_path)
    tokens = Tokens(secret)
    week_old = old_confirm_token(secret, 3, "ann@example.org", days=7.01)
    with pytest.raises(BadToken) as caught:
        tokens.read_confirm(week_old)
    assert caught.value.expired
    assert tokens.read_confirm(old_confirm_token(secret, 3, "a@example.org", days=6.9))[0] == 3
    assert tokens.read_confirm(week_old, max_days=8) == (3, "ann@example.org")
    with pytest.raises(BadToken):
        tokens.read_confirm(tokens.confirm_token(3, "a@example.org"), max_days=-1)

    class YearsAgo(TimestampSigner):
        def get_timestamp(self) -> int:
            return int(time.time() - 5 * 365 * 86400)

    old = URLSafeTimedSerializer(secret, salt=tokens_module._UNSUBSCRIBE, signer=YearsAgo)
    assert tokens.read_unsubscribe(old.dumps([3, "ann@example.org"])) == (3, "ann@example.org")


def test_the_links_are_the_routes_contract(tmp_path: Path) -> None:
    config = write_config(tmp_path, "newsletter:\n  base_url: https://news.example.org/cbe\n")
    settings = load_config(config)
    tokens = mail_tokens(settings)
    assert mail_tokens(settings) is tokens
    ann = Subscriber(id=4, email="ann@bücher.de", status="confirmed", created="2026-01-01")
    url = unsubscribe_url(settings, tokens, ann)
    prefix = "https://news.example.org/cbe/unsubscribe/"
    assert url.startswith(prefix)
    token = url.removeprefix(prefix)
    assert "/" not in token and "?" not in token and token.isascii()
    assert tokens.read_unsubscribe(token) == (4, "ann@bücher.de")
    link = confirm_url(settings, tokens, ann)
    assert link.startswith("https://news.example.org/cbe/subscribe/confirm?token=")
    assert tokens.read_confirm(link.split("token=", 1)[1]) == (4, "ann@bücher.de")


# -- which paths are public -----------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "public"),
    [
        ("/subscribe", True),
        ("/subscribe/confirm", True),
        ("/unsubscribe/WzEsImFAYi5vcmciXQ.Z1k2aQ.abc-_", True),
        ("/subscribers", False),
        ("/subscribers/", False),
        ("/subscribe/", False),
        ("/subscribe/confirm/", False),
        ("/subscribe/other", False),
        ("/subscribex", False),
        ("/unsubscribe/", False),
        ("/unsubscribe", False),
        ("/unsubscribe/a/b", False),
        ("/unsubscribe/a b", False),
        ("/subscribe\n", False),
        ("/", True),
        ("/queue", False),
    ],
)
def test_which_paths_are_public(path: str, public: bool) -> None:
    assert is_public(path) is public


# -- the subscribe form's limits ------------------------------------------------------


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_subscribe_limits_per_address_overall_and_per_recipient() -> None:
    clock = Clock()
    limits = SubscribeLimiter(per_address=3, overall=5, window=60, per_recipient=2,
                              recipient_window=600, clock=clock)  # fmt: skip
    assert [limits.allow("192.0.2.1") for _ in range(4)] == [True, True, True, False]
    assert limits.allow("2001:db8::1") and limits.allow("2001:db8::2")  # one /64: 2 of 3
    assert not limits.allow("2001:db8::3")  # the ceiling on everyone: 5 in the window
    clock.now += 61
    assert limits.allow("192.0.2.1") and limits.allow("2001:db8::ffff")
    assert [limits.may_mail("ann@example.org") for _ in range(3)] == [True, True, False]
    assert limits.may_mail("bob@example.org")
    clock.now += 601
    assert limits.may_mail("ann@example.org")


# -- CSV lists ------------------------------------------------------------------------


def test_a_list_with_a_header_bad_rows_and_duplicates() -> None:
    text = (
        "\ufeffFirst Name,Last Name,Email Address,Tags\n"
        "Ann,Lee,Ann@Example.org,x\n"
        "Bob,,not-an-address,\n"
        "\n"
        '"Carl","Multi\nLine",carl@example.org,\n'
        "Ann,Again,ann@example.org,\n"
        ",,,\n"
        "Dee,,,\n"
        "Eve,,eve@bücher.de,\n"
    )
    read = read_list(text)
    assert [(r.line, r.email, r.name) for r in read.rows] == [
        (2, "ann@example.org", "Ann Lee"),
        (5, "carl@example.org", "Carl Multi Line"),
        (10, "eve@bücher.de", "Eve"),
    ]
    assert read.duplicates == 1
    assert read.problems == [
        "line 3: 'not-an-address' is not an email address: an email address must have an @-sign.",
        "line 9: an email address is needed.",
    ]


@pytest.mark.parametrize(
    ("text", "rows"),
    [
        ("ann@example.org\nbob@example.org\n", [("ann@example.org", ""), ("bob@example.org", "")]),
        ("ann@example.org,Ann\n", [("ann@example.org", "Ann")]),
        ("e-mail;name\nann@example.org;Ann\n", [("ann@example.org", "Ann")]),
        ("name\taddress\nAnn\tann@example.org\n", [("ann@example.org", "Ann")]),
        ("EMAIL,NAME\r\nann@example.org,'=1+1\r\n", [("ann@example.org", "=1+1")]),
        ("", []),
    ],
)
def test_list_shapes(text: str, rows: list[tuple[str, str]]) -> None:
    assert [(r.email, r.name) for r in read_list(text).rows] == rows


def test_a_file_without_addresses_is_refused_in_a_sentence() -> None:
    with pytest.raises(SubscriberError, match=r"^line 1: no column of this file is named email"):
        read_list("who,when\nAnn,today\n")


def test_the_export_has_exactly_its_columns_and_defuses_formulas() -> None:
    people = [
        Subscriber(1, "ann@example.org", "confirmed", "2026-01-01T00:00:00Z", "Ann, \"A\"",
                   confirmed="2026-01-02T00:00:00Z"),
        Subscriber(2, "eve@example.org", "unsubscribed", "2026-01-03T00:00:00Z",
                   "=HYPERLINK(\"x\")", unsubscribed="2026-02-01T00:00:00Z"),
    ]  # fmt: skip
    out = io.StringIO()
    assert write_list(people, out) == 2
    rows = list(csv.reader(io.StringIO(out.getvalue())))
    assert rows[0] == list(EXPORT_COLUMNS) == [
        "email", "name", "status", "created", "confirmed", "unsubscribed"
    ]  # fmt: skip
    assert rows[1] == ["ann@example.org", 'Ann, "A"', "confirmed", "2026-01-01T00:00:00Z",
                       "2026-01-02T00:00:00Z", ""]  # fmt: skip
    assert rows[2][1] == '\'=HYPERLINK("x")' and rows[2][5] == "2026-02-01T00:00:00Z"
    again = read_list(out.getvalue())  # our export reads back as it was
    assert [(r.email, r.name) for r in again.rows] == [
        ("ann@example.org", 'Ann, "A"'), ("eve@example.org", '=HYPERLINK("x")')
    ]  # fmt: skip


# -- from a shell ---------------------------------------------------------------------


def run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_config(tmp_path, "")


def statuses(config: Path) -> dict[str, tuple[str, str, str]]:
    with Store(load_config(config).db_path) as store:
        return {s.email: (s.status, s.name, s.source) for s in store.subscribers.find()}


def test_import_reports_bad_rows_merges_duplicates_and_never_resubscribes(
    config: Path, tmp_path: Path
) -> None:
    assert run(config, "subscribers", "add", "old@example.org", "--confirmed")[0] == 0
    assert run(config, "subscribers", "add", "gone@example.org", "--confirmed")[0] == 0
    with Store(load_config(config).db_path) as store:
        gone = store.subscribers.by_email("gone@example.org")
        assert gone is not None
        store.subscribers.set_status(gone.id, "unsubscribed")
    listing = tmp_path / "old-list.csv"
    listing.write_text(
        "Email Address,Name\n"
        "new@example.org,New One\n"
        "broken@,Broken\n"
        "OLD@example.org,Old Name\n"  # on the list: merged, its missing name filled
        "new@example.org,Twice\n"  # twice in the file: merged
        "gone@example.org,Gone\n"  # unsubscribed: merged, stays unsubscribed
        "ann@xn--bcher-kva.de,\n"
        "also bad,\n"
    )
    code, out, err = run(config, "subscribers", "import", str(listing))
    assert code == 0, err
    assert out == "added 2, merged 3, skipped 2\n"
    # The import refreshed the query planner's statistics: the 4 addresses now listed.
    assert planner_stats(load_config(config).db_path)["idx_subscribers_email"].split()[0] == "4"
    assert f"{listing}: line 3: 'broken@' is not an email address" in err
    assert f"{listing}: line 8: 'also bad' is not an email address" in err
    assert statuses(config) == {
        "old@example.org": ("confirmed", "Old Name", "cli"),
        "gone@example.org": ("unsubscribed", "Gone", "cli"),
        "new@example.org": ("pending", "New One", "import:old-list.csv"),
        "ann@bücher.de": ("pending", "", "import:old-list.csv"),
    }
    # The operator states that everyone on a second list consented.
    consented = tmp_path / "consented.csv"
    consented.write_text("email\nnew@example.org\nfresh@example.org\ngone@example.org\n")
    code, out, _ = run(
        config, "subscribers", "import", str(consented), "--confirmed", "--source", "2025 event"
    )
    assert (code, out) == (0, "added 1, merged 2, skipped 0\n")
    found = statuses(config)
    assert found["new@example.org"] == ("confirmed", "New One", "2025 event")
    assert found["fresh@example.org"] == ("confirmed", "", "2025 event")
    assert found["gone@example.org"][0] == "unsubscribed"
    assert found["ann@bücher.de"][0] == "pending"


def test_export_list_and_remove(config: Path, tmp_path: Path) -> None:
    run(config, "subscribers", "add", "ann@example.org", "--name", "Ann", "--confirmed")
    run(config, "subscribers", "add", "bob@example.org", "--confirmed")
    code, out, _ = run(config, "subscribers", "export")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert list(rows[0]) == ["email", "name", "status", "created", "confirmed", "unsubscribed"]
    assert [(r["email"], r["name"], r["status"]) for r in rows] == [
        ("ann@example.org", "Ann", "confirmed"), ("bob@example.org", "", "confirmed")
    ]  # fmt: skip
    target = tmp_path / "out.csv"
    code, _, err = run(config, "subscribers", "export", str(target))
    assert code == 0 and "exported 2 subscribers" in err
    assert target.read_text().splitlines()[0] == "email,name,status,created,confirmed,unsubscribed"
    code, out, _ = run(config, "subscribers", "list", "--json", "--status", "confirmed")
    lines = [json.loads(line) for line in out.splitlines()]
    assert [line["email"] for line in lines] == ["ann@example.org", "bob@example.org"]
    assert set(lines[0]) >= {"id", "email", "name", "status", "created", "confirmed", "source"}
    assert run(config, "subscribers", "list", "--status", "pending", "--json")[1] == ""
    code, out, err = run(config, "subscribers", "remove", "ANN@example.org", "nobody@example.org")
    assert (code, out) == (1, "removed 1\n") and "not on the list: nobody@example.org" in err
    assert list(statuses(config)) == ["bob@example.org"]
    assert run(config, "subscribers", "add", "bob@example.org", "--confirmed")[1] == (
        "bob@example.org is on the list already (confirmed)\n"
    )


def test_bad_input_from_a_shell(config: Path, tmp_path: Path) -> None:
    code, _, err = run(config, "subscribers", "add", "not-an-address", "--confirmed")
    assert code == 1 and "'not-an-address' is not an email address" in err
    assert run(config, "subscribers", "list", "--status", "nonsense")[0] == 2
    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("email,name\nann@example.org,Zo\xeb\n".encode("latin-1"))
    code, _, err = run(config, "subscribers", "import", str(latin1))
    assert code == 1 and "is not UTF-8 text" in err
    headless = tmp_path / "headless.csv"
    headless.write_text("who,when\nAnn,today\n")
    code, _, err = run(config, "subscribers", "import", str(headless))
    assert code == 1 and "line 1: no column of this file is named email" in err
    assert statuses(config) == {}

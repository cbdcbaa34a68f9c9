"""Subscribers' addresses as tables: the one form the list stores (lower case, IDN as
Unicode), the form handed to SMTP (IDN as ASCII), one plain sentence for what is not an
address, hostile input included; and names made safe to keep."""

from __future__ import annotations

import pytest

from cbewatch.errors import SubscriberError
from cbewatch.mail.addresses import (
    clean_name,
    needs_smtputf8,
    normalize_address,
    sendable_address,
)


@pytest.mark.parametrize(
    ("given", "stored", "sent"),
    [
        ("ann@example.org", "ann@example.org", "ann@example.org"),
        ("  Ann.Lee@Example.ORG \n", "ann.lee@example.org", "ann.lee@example.org"),
        ("ANN+news@EXAMPLE.org", "ann+news@example.org", "ann+news@example.org"),
        ("o'brien@example.org", "o'brien@example.org", "o'brien@example.org"),
        # Internationalized domains: stored readable, sent as ASCII (any server takes it).
        ("user@Bücher.DE", "user@bücher.de", "user@xn--bcher-kva.de"),
        ("user@xn--bcher-kva.de", "user@bücher.de", "user@xn--bcher-kva.de"),
        ("ann@münchen.example", "ann@münchen.example", "ann@xn--mnchen-3ya.example"),
        ("x@ＥＸＡＭＰＬＥ.org", "x@example.org", "x@example.org"),  # fullwidth folds
        # A Unicode local part keeps its case (servers do not agree on Unicode case rules)
        # and needs a server that speaks SMTPUTF8.
        ("Ünïcode@example.org", "Ünïcode@example.org", "Ünïcode@example.org"),
        ("用户@例子.广告", "用户@例子.广告", "用户@例子.广告"),
    ],
)
def test_addresses_are_normalized(given: str, stored: str, sent: str) -> None:
    assert normalize_address(given) == stored
    assert normalize_address(stored) == stored  # normalizing twice changes nothing
    assert sendable_address(stored) == sent
    assert needs_smtputf8(stored) == (not sent.isascii())


@pytest.mark.parametrize(
    ("given", "says"),
    [
        ("", "An email address is needed."),
        ("   ", "An email address is needed."),
        ("ann", "'ann' is not an email address: an email address must have an @-sign."),
        ("ann@", "'ann@' is not an email address: there must be something after the @-sign."),
        ("@example.org", "there must be something before the @-sign"),
        ("ann@example", "it should have a period"),
        ("ann@localhost", "it should have a period"),
        ("ann@example.test", "special-use or reserved name"),
        ("ann..lee@example.org", "two periods in a row"),
        ("ann@@example.org", "is not an email address"),
        ("a b@example.org", "invalid characters before the @-sign: SPACE"),
        ("ann@exa_mple.org", "invalid characters: '_'"),
        ("ann@[127.0.0.1]", "bracketed IP address"),
        ('"ann"@example.org', "Quoting the part before the @-sign is not allowed".lower()),
        ("Ann <ann@example.org>", "display name and angle brackets"),
        ("mailto:ann@example.org", "invalid characters before the @-sign: ':'"),
        ("ann@example.org, bob@example.org", "is not an email address"),
        # Header injection, NUL and friends never get through.
        ("ann@example.org\r\nBcc: eve@example.org", "is not an email address"),
        ("ann@example.org\nBcc:eve@example.org", "is not an email address"),
        ("ann\x00@example.org", "is not an email address"),
        ("ann@exam\u202eple.org", "is not an email address"),
        ("<script>@example.org", "is not an email address"),
        ("ann@" + "a" * 64 + ".org", "is not an email address"),
        ("x" * 10_000 + "@example.org", "That is not an email address: it is far too long."),
    ],
)
def test_what_is_not_an_address_is_said_in_one_sentence(given: str, says: str) -> None:
    with pytest.raises(SubscriberError) as caught:
        normalize_address(given)
    message = str(caught.value)
    assert says in message
    assert message.endswith(".") and message.count(". ") == 0, message  # one sentence
    assert "\n" not in message and "\x00" not in message and len(message) < 300


def test_the_address_shown_in_an_error_is_cut_short() -> None:
    with pytest.raises(SubscriberError) as caught:
        normalize_address("no-at-sign-" + "y" * 200)
    assert "…" in str(caught.value) and len(str(caught.value)) < 200


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("Ann Lee", "Ann Lee"),
        ("  Ann \n\t Lee  ", "Ann Lee"),
        (None, ""),
        ("Ann\x00\x1b[31mLee", "Ann [31mLee"),
        ("Ann\u202eeeL", "Ann eeL"),  # no right-to-left override to disguise a name
        ("Zoe\u0308", "Zoë"),  # NFC
        ("x" * 500, "x" * 100),
    ],
)
def test_names_are_one_clean_line(given: str | None, kept: str) -> None:
    assert clean_name(given) == kept

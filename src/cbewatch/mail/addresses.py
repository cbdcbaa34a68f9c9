"""Subscribers' email addresses: checked (email-validator, syntax only: no DNS) and put in
the one form the list stores and compares, and subscribers' names made safe to keep.
Pure; never looks an address up on the network.

The normalized form: the domain in lower case, an internationalized domain as readable
Unicode (`bücher.de`, not `xn--bcher-kva.de`), and an ASCII local part (before the @) in
lower case, so `Ann.Lee@Example.org` and `ann.lee@example.org` are one subscriber. RFC
5321 lets a server tell the cases of a local part apart but discourages it, and no
mailbox provider does; one person on the list twice (two copies, and an unsubscribe that
leaves the other) is the worse mistake. A non-ASCII local part keeps its case: Unicode
case rules (Turkish İ, say) are not something mail servers agree on.
"""

from __future__ import annotations

import re
import unicodedata

from email_validator import EmailNotValidError, validate_email

from ..errors import SubscriberError

MAX_INPUT = 320  # longer than any address (254) with room for stray spaces; never parsed
MAX_NAME = 100
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029\u200b-\u200f\u202a-\u202e\u2066-\u2069]")


def normalize_address(text: str) -> str:
    """The address in the list's form; SubscriberError (one sentence) when it is none."""
    return _validated(text)[0]


def sendable_address(address: str) -> str:
    """The form to hand to an SMTP server: the domain in ASCII (`xn--…`) so any server
    takes it; an address whose local part is not ASCII stays Unicode (it needs a server
    that speaks SMTPUTF8)."""
    return _validated(address)[1]


def wire_address(listed: str) -> str:
    """sendable_address for an address from the list (validated when it was added):
    an ASCII one is already in the form SMTP takes, so only an internationalized one
    pays for the validator again (a send to 5,000 asks this 5,000 times)."""
    return listed if listed.isascii() else sendable_address(listed)


def needs_smtputf8(address: str) -> bool:
    return not sendable_address(address).isascii()


def _validated(text: str) -> tuple[str, str]:
    raw = (text or "").strip()
    if not raw:
        raise SubscriberError("An email address is needed.")
    if len(raw) > MAX_INPUT:
        raise SubscriberError("That is not an email address: it is far too long.")
    try:
        found = validate_email(raw, check_deliverability=False)
    except EmailNotValidError as exc:
        raise SubscriberError(f"{_shown(raw)} is not an email address: {_reason(exc)}.") from None
    local = found.local_part.lower() if found.local_part.isascii() else found.local_part
    ascii_local = found.ascii_local_part.lower() if found.ascii_local_part else None
    normalized = f"{local}@{found.domain}"
    sendable = f"{ascii_local}@{found.ascii_domain}" if ascii_local else normalized
    return normalized, sendable


def _shown(raw: str) -> str:
    """The input quoted for a message: short, and with its control characters visible."""
    cut = raw if len(raw) <= 60 else raw[:57] + "…"
    return repr(cut)


def _reason(exc: EmailNotValidError) -> str:
    """email-validator's explanation as the tail of our one sentence: its sentences
    joined by semicolons, first letter in lower case."""
    sentences = [s.strip() for s in str(exc).rstrip(".").split(". ") if s.strip()]
    reason = "; ".join(s[:1].lower() + s[1:] for s in sentences)
    return reason or "it cannot be read"


def clean_name(text: str | None) -> str:
    """A subscriber's name as kept: one line, no control or direction-changing characters
    (a name goes into CSV files and pages), at most MAX_NAME characters."""
    text = unicodedata.normalize("NFC", _CONTROL.sub(" ", text or ""))
    return " ".join(text.split())[:MAX_NAME].strip()

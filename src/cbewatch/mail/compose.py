"""The emails cbewatch writes, as `EmailMessage`s: the headers every one carries, and the
issue for one recipient — `multipart/alternative`, the text part first and the HTML part
last (clients show the last part they can), both quoted-printable, with the list headers
of RFC 2369 and the one-click unsubscribe of RFC 8058.

The issue is rendered once per send (`IssueMail`) and its shared headers written once
(`IssueCopies`); each copy only swaps in its recipient's unsubscribe URL and encodes its
two parts, so 5,000 copies cost 5,000 string replacements and encodings, not 5,000
renders.
"""

from __future__ import annotations

import binascii
import re
import secrets
from dataclasses import dataclass
from email import message_from_bytes
from email.message import EmailMessage
from email.policy import SMTP
from email.utils import format_datetime, formataddr, make_msgid

from ..config import Settings
from ..model.times import utc_now
from ..newsletter.render import UNSUBSCRIBE_PLACEHOLDER
from .addresses import sendable_address


@dataclass(frozen=True)
class IssueMail:
    """One issue rendered for email, its unsubscribe link still the placeholder."""

    subject: str
    text: str
    html: str


def base_message(settings: Settings, to: str, subject: str) -> EmailMessage:
    """From, To (the domain in ASCII), Subject, Date, Message-ID and Reply-To."""
    newsletter = settings.newsletter
    message = EmailMessage()
    message["From"] = formataddr((newsletter.title, newsletter.sender))
    message["To"] = sendable_address(to)
    message["Subject"] = subject
    message["Date"] = format_datetime(utc_now())
    message["Message-ID"] = make_msgid(domain=_domain(settings))
    if newsletter.reply_to:
        message["Reply-To"] = newsletter.reply_to
    return message


class IssueCopies:
    """The issue's email made ready once per send; `copy` gives one recipient's message
    as the bytes SMTP carries. The headers that are the same for everyone (From, Subject,
    Reply-To, List-Id: names that may need RFC 2047) are written once by the email
    package; a copy adds its own To, Date, Message-ID and List-Unsubscribe, and encodes
    its two parts with binascii's quoted-printable — the email package would rebuild and
    re-encode the whole message for every recipient, at a hundred times the cost."""

    def __init__(self, settings: Settings, mail: IssueMail) -> None:
        newsletter = settings.newsletter
        head = base_message(settings, newsletter.sender, mail.subject)
        for name in ("To", "Date", "Message-ID"):
            del head[name]
        head["List-Id"] = list_id(settings)
        head["List-Archive"] = f"<{newsletter.base_url}>"
        head["MIME-Version"] = "1.0"
        self._head = head.as_bytes(policy=SMTP).rstrip(b"\r\n") + b"\r\n"
        self._mail = mail
        self._domain = _domain(settings)
        self._mailto = f"mailto:{newsletter.sender}?subject=unsubscribe"
        # "=_" never occurs in quoted-printable text, so no body can hold the boundary
        self._boundary = f"=_cbewatch_{secrets.token_hex(12)}"

    def copy(self, to: str, unsubscribe_url: str | None = None) -> bytes:
        """The message for `to` (in the form sendable_address gives). With
        `unsubscribe_url` (a subscriber's copy), the links in the body and the
        List-Unsubscribe headers point at it; without (a test copy), the body keeps the
        placeholder and the message has no unsubscribe headers."""
        text, html = self._mail.text, self._mail.html
        lines = [
            f"To: {to}",
            f"Date: {format_datetime(utc_now())}",
            f"Message-ID: {make_msgid(domain=self._domain)}",
        ]
        if unsubscribe_url:
            text = text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url)
            html = html.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url)
            lines.append(f"List-Unsubscribe: <{unsubscribe_url}>, <{self._mailto}>")
            lines.append("List-Unsubscribe-Post: List-Unsubscribe=One-Click")
        lines.append(f'Content-Type: multipart/alternative; boundary="{self._boundary}"')
        mark = f"--{self._boundary}"
        return b"".join(
            [
                self._head,
                "\r\n".join(lines).encode(),
                b"\r\n\r\n",
                _part(mark, "plain", text),
                _part(mark, "html", html),
                f"{mark}--\r\n".encode(),
            ]
        )


def _part(mark: str, subtype: str, body: str) -> bytes:
    head = (
        f'{mark}\r\nContent-Type: text/{subtype}; charset="utf-8"\r\n'
        "Content-Transfer-Encoding: quoted-printable\r\n\r\n"
    )
    encoded = binascii.b2a_qp(body.encode("utf-8"), istext=True).replace(b"\n", b"\r\n")
    return head.encode() + encoded + b"\r\n"


def issue_message(
    settings: Settings, to: str, mail: IssueMail, unsubscribe_url: str | None = None
) -> EmailMessage:
    """One copy as an `EmailMessage` (a test copy: speed does not matter there)."""
    data = IssueCopies(settings, mail).copy(sendable_address(to), unsubscribe_url)
    message = message_from_bytes(data, policy=SMTP)
    assert isinstance(message, EmailMessage)
    return message


def list_id(settings: Settings) -> str:
    """`Title <slug.domain>` (RFC 2919): how mail clients group and filter the list."""
    title = settings.newsletter.title
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-") or "newsletter"
    shown = title.replace("\\", "").replace('"', "")
    return f'"{shown}" <{slug}.{_domain(settings)}>'


def _domain(settings: Settings) -> str:
    return settings.newsletter.sender.rpartition("@")[2] or "localhost"

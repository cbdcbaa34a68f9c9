"""The emails cbewatch writes, as `EmailMessage`s: the headers every one carries, and the
issue for one recipient — `multipart/alternative`, the text part first and the HTML part
last (clients show the last part they can), both quoted-printable, with the list headers
of RFC 2369 and the one-click unsubscribe of RFC 8058.

The issue is rendered once per send (`IssueMail`); each copy only swaps in its
recipient's unsubscribe URL, so 5,000 copies cost 5,000 string replacements, not 5,000
renders.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from email.message import EmailMessage
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


def issue_message(
    settings: Settings, to: str, mail: IssueMail, unsubscribe_url: str | None = None
) -> EmailMessage:
    """The issue for `to`. With `unsubscribe_url` (a subscriber's copy), the links in the
    body and the List-Unsubscribe headers point at it; without (a test copy), the body
    keeps the placeholder and the message carries no unsubscribe headers."""
    message = base_message(settings, to, mail.subject)
    message["List-Id"] = list_id(settings)
    message["List-Archive"] = f"<{settings.newsletter.base_url}>"
    text, html = mail.text, mail.html
    if unsubscribe_url:
        text = text.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url)
        html = html.replace(UNSUBSCRIBE_PLACEHOLDER, unsubscribe_url)
        mailto = f"mailto:{settings.newsletter.sender}?subject=unsubscribe"
        message["List-Unsubscribe"] = f"<{unsubscribe_url}>, <{mailto}>"
        message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message.set_content(text, cte="quoted-printable")
    message.add_alternative(html, subtype="html", cte="quoted-printable")
    return message


def list_id(settings: Settings) -> str:
    """`Title <slug.domain>` (RFC 2919): how mail clients group and filter the list."""
    title = settings.newsletter.title
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-")[:40].strip("-") or "newsletter"
    shown = title.replace("\\", "").replace('"', "")
    return f'"{shown}" <{slug}.{_domain(settings)}>'


def _domain(settings: Settings) -> str:
    return settings.newsletter.sender.rpartition("@")[2] or "localhost"

"""One email out through the config's SMTP server (aiosmtplib): the issue as
`multipart/alternative`, the text part first, the HTML part last (clients show the last
part they can). The password is read from the environment variable the config names;
it never appears in a message, a log line or an error.
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage
from email.utils import format_datetime, formataddr, make_msgid

import aiosmtplib

from ..config import Settings
from ..errors import DeliveryError
from ..model.times import utc_now

SEND_TIMEOUT = 60.0  # seconds for one message, connection included


def issue_message(settings: Settings, to: str, subject: str, text: str, html: str) -> EmailMessage:
    """The issue as one email to `to`: text part first, HTML part last."""
    newsletter = settings.newsletter
    message = EmailMessage()
    message["From"] = formataddr((newsletter.title, newsletter.sender))
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = format_datetime(utc_now())
    message["Message-ID"] = make_msgid(domain=newsletter.sender.rpartition("@")[2] or None)
    if newsletter.reply_to:
        message["Reply-To"] = newsletter.reply_to
    message.set_content(text)
    message.add_alternative(html, subtype="html")
    return message


def send_message(settings: Settings, message: EmailMessage) -> None:
    """Hand one message to the SMTP server; DeliveryError (naming the recipient and the
    server) when it cannot be sent."""
    smtp = settings.smtp
    try:
        asyncio.run(
            aiosmtplib.send(
                message,
                hostname=smtp.host,
                port=smtp.port,
                start_tls=smtp.starttls,
                username=smtp.username,
                password=smtp.password() if smtp.username else None,
                timeout=SEND_TIMEOUT,
            )
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise DeliveryError(
            message["To"], f"{smtp.host}:{smtp.port} did not take it ({_reason(exc)})"
        ) from None


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__

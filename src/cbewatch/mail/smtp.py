"""One email out through the config's SMTP server (aiosmtplib): a test copy of the issue,
a confirmation. The password is read from the environment variable the config names; it
never appears in a message, a log line or an error. Sending to the whole list, with
connections reused, is mail/sender.py's.
"""

from __future__ import annotations

import asyncio
from email.message import EmailMessage

import aiosmtplib

from ..config import Settings
from ..errors import DeliveryError
from .sender import TIMEOUT, password


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
                use_tls=smtp.tls,
                start_tls=smtp.starttls,
                username=smtp.username,
                password=password(smtp),
                timeout=TIMEOUT,
            )
        )
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise DeliveryError(
            message["To"], f"{smtp.host}:{smtp.port} did not take it ({_reason(exc)})"
        ) from None


def _reason(exc: Exception) -> str:
    text = " ".join(str(exc).split())
    return text[:200] or type(exc).__name__

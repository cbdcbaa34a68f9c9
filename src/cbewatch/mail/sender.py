"""SMTP for many messages: connections to the config's server (aiosmtplib, STARTTLS or
implicit TLS, login with the password from the environment variable the config names),
each opened once and reused, and one rate shared by all of them.

A send's outcome is sorted here, by the server's reply, into what the ledger needs:
`sent`; `retry` (4xx, or a connection lost before the message went: another try later);
`failed` (5xx: not again), with `bounce` when the server refused the recipient itself;
and `in_doubt` when the connection broke while the message was on its way. A server that
cannot be used at all (unreachable, login refused, sender refused) raises ServerUnusable.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Literal

import aiosmtplib

from ..config import Smtp
from ..errors import SendError

TIMEOUT = 60.0  # seconds for one SMTP command, connecting included


class ServerUnusable(SendError):
    """The SMTP server cannot take any message now: the sentence names it and why.
    `lasting` when trying again cannot help (a refused login or sender)."""

    def __init__(self, smtp: Smtp, why: str, lasting: bool = False) -> None:
        super().__init__(f"the SMTP server {smtp.host}:{smtp.port} {why}")
        self.lasting = lasting


@dataclass(frozen=True)
class Attempt:
    outcome: Literal["sent", "retry", "failed"]
    reply: str  # the server's reply to the message, or why it did not go
    bounce: bool = False  # a 5xx for the recipient: the address is refused
    in_doubt: bool = False  # the connection broke mid-message: the server may have it


def password(smtp: Smtp) -> str | None:
    """The login password, from the environment; SendError when a username is set and
    the variable is empty (said before anything is sent)."""
    if not smtp.username:
        return None
    found = smtp.password()
    if not found:
        raise SendError(
            f"smtp.username is set but the environment variable {smtp.password_env} "
            "holds no password: set it, or remove smtp.username"
        )
    return found


class Rate:
    """At most `per_second` starts a second over every connection: each caller waits
    for the next free slot."""

    def __init__(self, per_second: float) -> None:
        self._gap = 1.0 / per_second
        self._next = 0.0

    async def wait(self) -> None:
        now = asyncio.get_running_loop().time()
        slot = max(now, self._next)
        self._next = slot + self._gap
        if slot > now:
            await asyncio.sleep(slot - now)


class Connection:
    """One SMTP session, opened on first use and again after the server closed it."""

    def __init__(self, smtp: Smtp, login_password: str | None) -> None:
        self._smtp = smtp
        self._password = login_password
        self._client: aiosmtplib.SMTP | None = None

    async def open(self) -> None:
        """Connected, TLS set up and logged in; ServerUnusable when that fails."""
        if self._client is not None and self._client.is_connected:
            return
        smtp = self._smtp
        client = aiosmtplib.SMTP(
            hostname=smtp.host,
            port=smtp.port,
            use_tls=smtp.tls,
            start_tls=smtp.starttls,
            username=smtp.username,
            password=self._password,
            timeout=TIMEOUT,
        )
        try:
            await client.connect()
        except aiosmtplib.SMTPAuthenticationError as exc:
            raise ServerUnusable(
                smtp, f"refused the login of {smtp.username}: {_said(exc)}", lasting=True
            ) from None
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise ServerUnusable(smtp, f"cannot be reached: {_said(exc)}") from None
        self._client = client

    async def send(self, sender: str, recipient: str, message: bytes) -> Attempt:
        """Hand one message (`recipient` as sendable_address gives it) over an open
        connection and sort the answer."""
        assert self._client is not None, "open() first"
        options = [] if recipient.isascii() else ["SMTPUTF8"]
        try:
            _, reply = await self._client.sendmail(
                sender, [recipient], message, mail_options=options
            )
        except aiosmtplib.SMTPRecipientsRefused as exc:
            refused = exc.recipients[0]
            return _by_code(refused.code, _said(refused), bounce=True)
        except aiosmtplib.SMTPSenderRefused as exc:
            if 400 <= exc.code < 500:
                return Attempt("retry", _said(exc))
            raise ServerUnusable(
                self._smtp, f"refused the sender {exc.sender}: {_said(exc)}", lasting=True
            ) from None
        except aiosmtplib.SMTPResponseException as exc:  # DATA refused, 421 closing, …
            if exc.code == 421:
                await self.close()
            return _by_code(exc.code, _said(exc), bounce=False)
        except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError, OSError) as exc:
            await self.close()
            return Attempt("retry", f"the connection broke: {_said(exc)}", in_doubt=True)
        return Attempt("sent", " ".join(reply.split())[:200])

    async def close(self) -> None:
        client, self._client = self._client, None
        if client is not None and client.is_connected:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError):
                client.close()


def _by_code(code: int, said: str, bounce: bool) -> Attempt:
    if 400 <= code < 500:
        return Attempt("retry", said)
    return Attempt("failed", said, bounce=bounce)


def _said(exc: Exception) -> str:
    code = getattr(exc, "code", None)
    text = " ".join(str(getattr(exc, "message", None) or exc).split())[:200]
    text = text or type(exc).__name__
    return f"{code} {text}" if isinstance(code, int) and code > 0 else text

"""The links that emails carry to a subscriber's own pages: confirm a subscription, and
unsubscribe (RFC 8058 one-click: the same URL takes the mail client's POST). Their
shape is a contract with the web app's routes (web/app.py) and with delivery, which
puts `unsubscribe_url` in every copy of an issue. Pure but for reading the signing key.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from ..config import Settings
from ..model.types import Subscriber
from .tokens import Tokens, load_mail_secret


def base_url(settings: Settings) -> str:
    """The newsletter's base URL, always ending in "/" (as the templates get it)."""
    base = settings.newsletter.base_url
    return base if base.endswith("/") else base + "/"


def mail_tokens(settings: Settings) -> Tokens:
    """The signer of email links for the config's data directory (its key is made on
    first use, `data_dir/mail.key`)."""
    return _tokens(settings.data_dir)


@cache
def _tokens(data_dir: Path) -> Tokens:
    return Tokens(load_mail_secret(data_dir))


def unsubscribe_url(settings: Settings, tokens: Tokens, subscriber: Subscriber) -> str:
    """`{base_url}unsubscribe/{token}`: GET shows a button, POST unsubscribes at once
    (what a mail client's one-click sends). The token never expires."""
    token = tokens.unsubscribe_token(subscriber.id, subscriber.email)
    return f"{base_url(settings)}unsubscribe/{token}"


def confirm_url(settings: Settings, tokens: Tokens, subscriber: Subscriber) -> str:
    """`{base_url}subscribe/confirm?token=…`: GET shows a Confirm button, POST confirms.
    The token expires after tokens.CONFIRM_DAYS days."""
    token = tokens.confirm_token(subscriber.id, subscriber.email)
    return f"{base_url(settings)}subscribe/confirm?token={token}"

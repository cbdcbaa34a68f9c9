"""Signed tokens for the links in emails: a confirmation token (double opt-in) that
expires, and a per-recipient unsubscribe token that does not (an old email's link must
still work). Signed with the data directory's secret (itsdangerous); a forged, altered or
expired token is refused, never trusted in part.
"""

from __future__ import annotations

from pathlib import Path

from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from ..keys import data_dir_key

CONFIRM_DAYS = 7
_CONFIRM = "cbewatch-confirm"
_UNSUBSCRIBE = "cbewatch-unsubscribe"


class BadToken(Exception):
    """A token that is forged, altered, for another purpose, or expired (`expired`)."""

    def __init__(self, expired: bool = False) -> None:
        super().__init__("expired" if expired else "not valid")
        self.expired = expired


def load_mail_secret(data_dir: Path) -> str:
    """The key that signs email links, made once per data directory (mode 0600)."""
    return data_dir_key(data_dir, "mail.key")


class Tokens:
    def __init__(self, secret: str) -> None:
        self._confirm = URLSafeTimedSerializer(secret, salt=_CONFIRM)
        self._unsubscribe = URLSafeTimedSerializer(secret, salt=_UNSUBSCRIBE)

    def confirm_token(self, subscriber_id: int, email: str) -> str:
        return self._confirm.dumps([subscriber_id, email])

    def read_confirm(self, token: str, max_days: int = CONFIRM_DAYS) -> tuple[int, str]:
        """(subscriber id, address) of a confirmation token; BadToken when it is not one
        of ours, or older than `max_days`."""
        try:
            subscriber_id, email = self._confirm.loads(token, max_age=max_days * 86400)
        except SignatureExpired:
            raise BadToken(expired=True) from None
        except (BadSignature, ValueError, TypeError):
            raise BadToken() from None
        return int(subscriber_id), str(email)

    def unsubscribe_token(self, subscriber_id: int, email: str) -> str:
        return self._unsubscribe.dumps([subscriber_id, email])

    def read_unsubscribe(self, token: str) -> tuple[int, str]:
        """(subscriber id, address) of an unsubscribe token; BadToken when forged."""
        try:
            subscriber_id, email = self._unsubscribe.loads(token)
        except (BadSignature, ValueError, TypeError):
            raise BadToken() from None
        return int(subscriber_id), str(email)

"""Curator accounts: argon2id password hashes in the store, checked at login.

Never stores, logs or returns a password; only its argon2id hash leaves this module.
"""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from .errors import CbewatchError
from .store import Store

_HASHER = PasswordHasher()  # argon2id with the library's current recommended costs
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8


class AccountError(CbewatchError):
    """A user name or password that cannot be used."""


def add_user(store: Store, name: str, password: str) -> bool:
    """Create the account, or give it a new password; True when it is new."""
    if not USER_NAME.match(name):
        raise AccountError(
            f"{name!r} is not a user name: use letters, digits and . _ @ - (at most 64)"
        )
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    return store.save_user(name, _HASHER.hash(password))


def check_password(stored: str | None, password: str) -> bool:
    """True when `password` matches the stored hash (`Store.password_hash`; None for an
    unknown user). Slow on purpose (argon2id): call it off the event loop."""
    try:
        return _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """A hash of nothing in particular, checked when the user is unknown so that a wrong
    name takes as long as a wrong password."""
    return _HASHER.hash("not a password")

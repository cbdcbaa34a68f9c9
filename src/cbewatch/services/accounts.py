"""Curator accounts: argon2id password hashes in the store, checked at login; logging out
ends every session of the account.

Never stores, logs or returns a password; only its argon2id hash leaves this module.
"""

from __future__ import annotations

import re
from functools import cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from ..errors import AccountError
from ..model.types import Curator
from ..store import Store

_HASHER = PasswordHasher()  # argon2id with the library's current recommended costs
USER_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$")
MIN_PASSWORD = 8


def check_name(name: str) -> None:
    """AccountError unless `name` can be a curator's user name."""
    if not USER_NAME.match(name):
        raise AccountError(
            f"{name!r} is not a user name: use letters, digits and . _ @ - (at most 64)"
        )


def add_user(store: Store, name: str, password: str) -> bool:
    """Create the account, or give it a new password (ending its sessions); True when
    it is new."""
    check_name(name)
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password must have at least {MIN_PASSWORD} characters")
    return store.users.save(name, _HASHER.hash(password))


def existing(store: Store, name: str) -> None:
    """AccountError naming the known curators when there is no `name`."""
    if store.users.password_hash(name) is None:
        known = ", ".join(u.name for u in store.users.all()) or "none yet"
        raise AccountError(f"there is no curator {name!r} (curators: {known})")


def list_users(store: Store) -> list[Curator]:
    return store.users.all()


def remove_user(store: Store, name: str) -> None:
    """Remove the account: every session of it ends, its decisions stay in the history."""
    existing(store, name)
    store.users.remove(name)


def log_in(store: Store, name: str, password: str) -> int | None:
    """The session generation a new session of `name` gets when `password` is right,
    else None. Slow on purpose (argon2id): call it off the event loop.

    The generation is read first, then the hash: a new password set in between or during
    the check has bumped it, so this login's session is refused rather than outliving it.
    """
    generation = store.users.session_generation(name)
    matches = check_password(store.users.password_hash(name), password)
    return generation if matches and generation is not None else None


def log_out(store: Store, name: str) -> None:
    """End every session of `name`, server-side: a copy of the cookie dies too."""
    store.users.end_sessions(name)


def session_generation(store: Store, name: str) -> int | None:
    """The generation a session of `name` must carry; None for no such user."""
    return store.users.session_generation(name)


def check_password(stored: str | None, password: str) -> bool:
    """True when `password` matches the stored hash (None for an unknown user)."""
    try:
        return _HASHER.verify(stored or _dummy_hash(), password) and stored is not None
    except (VerificationError, InvalidHashError):
        return False


@cache
def _dummy_hash() -> str:
    """A hash of nothing in particular, checked when the user is unknown so that a wrong
    name takes as long as a wrong password."""
    return _HASHER.hash("not a password")

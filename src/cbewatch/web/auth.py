"""Sessions, CSRF, login rate limits and the security headers of every response.

The session is a signed cookie (itsdangerous): the user's name, the user's session
generation and a CSRF token, nothing secret. The cookie alone is not enough: on every
request its generation must still be the user's in the store, and logging out (or a new
password) bumps that, so a copied cookie stops working. Every page but the public ones
requires a login; every POST needs the token.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import secrets
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Hashable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..keys import data_dir_key

COOKIE = "cbewatch_session"
SESSION_DAYS = 14
PUBLIC_PATHS = ("/login", "/healthz", "/favicon.ico", "/static/")
# The newsletter's public archive: its index, each published issue's page, the feed.
PUBLIC_ARCHIVE = re.compile(r"^/(|feed\.xml|issues/\d{4}-\d{2}/)$")
# A subscriber's own pages: the form, the confirmation link, the unsubscribe link (its
# token is one path segment of itsdangerous' URL-safe characters). Anchored whole, so
# the curators' /subscribers stays private.
PUBLIC_MAIL = re.compile(r"^/(subscribe|subscribe/confirm|unsubscribe/[A-Za-z0-9_.\-]+)$")
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; "
    "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


def load_secret(data_dir: Path) -> str:
    """The key that signs session cookies, made once per data directory (mode 0600)."""
    return data_dir_key(data_dir, "session.key")


KNOWN_COOKIE = "cbewatch_known"
KNOWN_DAYS = 180


class Sessions:
    """Reads and writes the signed session cookie, and the "this browser has logged in
    as NAME before" cookie the login limits trust (signed with the same secret, which
    lives in data_dir: it holds across restarts)."""

    def __init__(self, secret: str) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="cbewatch-session")
        self._known = URLSafeTimedSerializer(secret, salt="cbewatch-known-browser")

    def known_user(self, request: Request) -> str | None:
        """The user name this browser logged in as before (its signed cookie), or None."""
        raw = request.cookies.get(KNOWN_COOKIE)
        if not raw:
            return None
        try:
            return str(self._known.loads(raw, max_age=KNOWN_DAYS * 86400))
        except BadSignature:
            return None

    def mark_known(self, request: Request, response: Response, user: str) -> None:
        response.set_cookie(
            KNOWN_COOKIE,
            self._known.dumps(name_key(user)),
            max_age=KNOWN_DAYS * 86400,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",
        )

    def load(self, request: Request) -> dict[str, Any]:
        raw = request.cookies.get(COOKIE)
        if raw:
            try:
                return dict(self._signer.loads(raw, max_age=SESSION_DAYS * 86400))
            except BadSignature:
                pass
        return {}

    def save(self, request: Request, response: Response, session: dict[str, Any]) -> None:
        response.set_cookie(
            COOKIE,
            self._signer.dumps(session),
            max_age=SESSION_DAYS * 86400,
            httponly=True,
            samesite="lax",
            secure=request.url.scheme == "https",  # behind a TLS proxy (X-Forwarded-Proto)
        )


def session(request: Request) -> dict[str, Any]:
    return request.state.session


def current_user(request: Request) -> str | None:
    return session(request).get("user")


def csrf_token(request: Request) -> str:
    """The session's CSRF token, made on first use."""
    state = session(request)
    if "csrf" not in state:
        state["csrf"] = secrets.token_urlsafe(24)
    return state["csrf"]


def log_in(request: Request, user: str, generation: int) -> None:
    """A fresh session for the user at the user's current session generation, with a new
    CSRF token, so none from before login survives."""
    request.state.session = {"user": user, "gen": generation, "csrf": secrets.token_urlsafe(24)}


def log_out(request: Request) -> None:
    request.state.session = {}


async def checked_form(request: Request) -> FormData:
    """The POSTed form, after checking its CSRF token (form field or X-CSRF-Token header)."""
    form = await request.form()
    sent = form.get("csrf_token") or request.headers.get("x-csrf-token") or ""
    expected = session(request).get("csrf")
    if not expected or not hmac.compare_digest(str(sent), expected):
        raise HTTPException(403, "This form has expired or did not come from cbewatch: reload it.")
    return form


def is_public(path: str) -> bool:
    if PUBLIC_ARCHIVE.fullmatch(path) or PUBLIC_MAIL.fullmatch(path):
        return True
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC_PATHS)


def local_path(target: str | None, default: str = "/queue") -> str:
    """`target` when it is a path on this site (never another host), else `default`."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def guard(
    sessions: Sessions, generation_of: Callable[[Request, str], Awaitable[int | None]]
) -> Callable[[Request, Callable], Awaitable[Response]]:
    """HTTP middleware: load the session, drop it if its user's sessions were ended since
    (`generation_of` gives the user's current generation, None for no such user), send
    strangers to /login, save the session if it changed, and put the security headers on
    every response."""

    async def middleware(request: Request, call_next: Callable) -> Response:
        loaded = sessions.load(request)
        before = dict(loaded)
        user = loaded.get("user")
        if user is not None:
            current = await generation_of(request, user)
            if current is None or loaded.get("gen") != current:
                loaded = {}  # logged out since, or an old cookie: saved empty below
        request.state.session = loaded
        if current_user(request) is None and not is_public(request.url.path):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response: Response = RedirectResponse(f"/login?next={quote(target)}", 303)
        else:
            response = await call_next(request)
        if request.state.session != before:
            sessions.save(request, response, request.state.session)
        for name, value in SECURITY_HEADERS.items():  # a page may set its own
            response.headers.setdefault(name, value)
        return response

    return middleware


def address_key(address: str) -> str:
    """A client address as the login limits count it: an IPv6 address by its /64 (one
    host or home usually has a whole /64 to pick from), anything else as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address[:64]  # not an address (a proxy's odd header): never stored whole
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


def name_key(user: str) -> str:
    # User names have at most 64 characters; a longer one is never a user, and a
    # megabyte-long one must not be kept whole.
    return user.lower()[:65]


class RecentTimes:
    """Moments per key within the last `window` seconds, per key only the newest `keep`
    (its limit). Keys are kept in the order they were last added to, so expired ones go
    from the front as new moments come in. Past `max_keys` keys, the least recently
    added key below its limit is forgotten first; a key AT its limit (an active block)
    is forgotten only when it expires: a flood of fresh keys cannot wipe a block. When
    every key is an active block, a new key is not taken (`add` returns False)."""

    def __init__(self, window: float, max_keys: int) -> None:
        self.window = window
        self.max_keys = max_keys
        self._times: OrderedDict[Hashable, list[float]] = OrderedDict()
        self._keep: dict[Hashable, int] = {}

    def __len__(self) -> int:
        return len(self._times)

    def count(self, key: Hashable, now: float) -> int:
        """How many moments of `key` are recent; a read never adds a key."""
        cutoff = now - self.window
        return sum(moment > cutoff for moment in self._times.get(key, ()))

    def add(self, key: Hashable, now: float, keep: int) -> bool:
        """Count a moment of `key`; False when the table is full of active blocks."""
        self._prune(now)
        times = self._times.get(key)
        if times is None:
            if len(self._times) >= self.max_keys and not self._make_room(now):
                return False
            times = self._times[key] = []
            self._keep[key] = keep
        else:
            self._times.move_to_end(key)
        times.append(now)
        del times[:-keep]  # the newest `keep` decide whether a limit of `keep` is reached
        return True

    def discard(self, key: Hashable, moment: float) -> None:
        """Take back one moment of `key`, if it is still there."""
        times = self._times.get(key)
        if times and moment in times:
            times.remove(moment)
            if not times:
                self._forget(key)

    def _prune(self, now: float) -> None:
        """Drop expired keys from the front (the least recently added)."""
        cutoff = now - self.window
        while self._times:
            key, times = next(iter(self._times.items()))
            if times[-1] > cutoff:
                break
            self._forget(key)

    def _make_room(self, now: float) -> bool:
        """Forget the least recently added key below its limit; False if there is none.
        Active blocks passed over move to the back, so each is looked at once a round."""
        cutoff = now - self.window
        for _ in range(len(self._times)):
            key, times = next(iter(self._times.items()))
            if sum(m > cutoff for m in times) < self._keep[key]:
                self._forget(key)
                return True
            self._times.move_to_end(key)
        return False

    def _forget(self, key: Hashable) -> None:
        del self._times[key]
        del self._keep[key]


class LoginLimiter:
    """Failed logins within `window` seconds, counted three ways:

    - per client address and user name (`per_pair`): guessing one account from one place;
    - per client address (`per_address`, higher: curators may share an office or a proxy);
    - per user name from every address (`per_user`): a ceiling against guessing spread
      over many addresses, which a browser the user has logged in with before (its
      signed cookie, see `Sessions.known_user`) is exempt from.

    So a stranger's failures lock out the stranger's addresses, never the curator in a
    browser they have used before, whatever the stranger's addresses, and across
    restarts (the cookie holds). An attempt counts as a failure from the moment it starts
    (see `attempt`); a success takes back only its own, so guessing stays slow. Memory is
    bounded by `max_keys`, and a flood of fresh keys cannot wipe an active block (see
    `RecentTimes`); when the table is all active blocks, only known browsers get in.
    """

    def __init__(
        self,
        per_pair: int = 5,
        per_address: int = 20,
        per_user: int = 100,
        window: float = 900.0,
        max_keys: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock  # tests pass their own, to move time without sleeping
        self._limits = {"pair": per_pair, "address": per_address, "user": per_user}
        self._failures = RecentTimes(window, max_keys)

    def tracked(self) -> int:
        """How many keys the limiter holds."""
        return len(self._failures)

    def _keys(self, address: str, user: str, known: bool) -> list[tuple[str, ...]]:
        address, user = address_key(address), name_key(user)
        keys = [("pair", address, user), ("address", address)]
        return keys if known else [*keys, ("user", user)]

    def blocked(self, address: str, user: str, known: bool = False) -> bool:
        """Whether a login now would be refused; `known`: from a browser that has logged
        in as `user` before."""
        now = self._clock()
        return any(
            self._failures.count(key, now) >= self._limits[key[0]]
            for key in self._keys(address, user, known)
        )

    def failed(self, address: str, user: str, known: bool = False) -> float | None:
        """Count a failure; returns its moment, or None when it could not be counted
        (the table is all active blocks)."""
        now = self._clock()
        counted = [
            self._failures.add(key, now, keep=self._limits[key[0]])
            for key in self._keys(address, user, known)
        ]
        return now if all(counted) else None

    def attempt(self, address: str, user: str, known: bool = False) -> float | None:
        """Start a login: None when the limits refuse it, else the moment it began. It
        counts as a failure at once, before the slow password check: guesses sent all
        together must not all pass `blocked` while the first ones are still checked.
        An attempt that cannot be counted is refused, unless from a known browser."""
        if self.blocked(address, user, known):
            return None
        moment = self.failed(address, user, known)
        return self._clock() if moment is None and known else moment

    def withdraw(self, address: str, user: str, attempt: float, known: bool = False) -> None:
        """Take an attempt back: it ended before any password was checked, or rightly."""
        for key in self._keys(address, user, known):
            self._failures.discard(key, attempt)

    def succeeded(self, address: str, user: str, attempt: float, known: bool = False) -> None:
        """A login succeeded: its attempt was no failure."""
        self.withdraw(address, user, attempt, known)


class SubscribeLimiter:
    """The public subscribe form's limits, which stand in for a CSRF token (the form is
    also on static copies of the archive):

    - requests per client address (`per_address` in `window` seconds; an IPv6 client by
      its /64, as the login limits);
    - requests from everyone together (`overall` in `window`): a ceiling on what many
      addresses can make the mail server send;
    - emails per recipient (`per_recipient` in `recipient_window`): however many
      addresses ask, one mailbox gets at most that many confirmation emails a day.

    Memory is bounded as the login limits' (`RecentTimes`). Safe to use from the event
    loop and from worker threads at once (the per-recipient check runs in the service).
    """

    def __init__(
        self,
        per_address: int = 5,
        overall: int = 200,
        window: float = 3600.0,
        per_recipient: int = 3,
        recipient_window: float = 86400.0,
        max_keys: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._clock = clock
        self._per_address = per_address
        self._overall = overall
        self._per_recipient = per_recipient
        self._requests = RecentTimes(window, max_keys)
        self._recipients = RecentTimes(recipient_window, max_keys)
        self._lock = threading.Lock()

    def allow(self, address: str) -> bool:
        """Count one request from `address`; False (and not counted) over a limit."""
        now = self._clock()
        key = ("address", address_key(address))
        with self._lock:
            if self._requests.count(key, now) >= self._per_address:
                return False
            if self._requests.count("all", now) >= self._overall:
                return False
            self._requests.add(key, now, keep=self._per_address)
            self._requests.add("all", now, keep=self._overall)
        return True

    def may_mail(self, recipient: str) -> bool:
        """Count one email to `recipient`; False (and not counted) over its limit."""
        now = self._clock()
        with self._lock:
            if self._recipients.count(recipient, now) >= self._per_recipient:
                return False
            self._recipients.add(recipient, now, keep=self._per_recipient)
        return True

"""Sessions, CSRF, login rate limits and the security headers of every response.

The session is a signed cookie (itsdangerous): the user's name and a CSRF token, nothing
secret. Every page but the public ones requires a login; every POST needs the token.
"""

from __future__ import annotations

import hmac
import ipaddress
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any
from urllib.parse import quote

from itsdangerous import BadSignature, URLSafeTimedSerializer
from starlette.datastructures import FormData
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

COOKIE = "cbewatch_session"
SESSION_DAYS = 14
PUBLIC_PATHS = ("/login", "/healthz", "/static/")
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
    path = data_dir / "session.key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        path.touch(mode=0o600)
        path.write_text(secrets.token_urlsafe(32))
    return path.read_text().strip()


class Sessions:
    """Reads and writes the signed session cookie."""

    def __init__(self, secret: str) -> None:
        self._signer = URLSafeTimedSerializer(secret, salt="cbewatch-session")

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


def log_in(request: Request, user: str) -> None:
    """A fresh session for the user: a new CSRF token, so none from before login survives."""
    request.state.session = {"user": user, "csrf": secrets.token_urlsafe(24)}


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
    return any(path == p or (p.endswith("/") and path.startswith(p)) for p in PUBLIC_PATHS)


def local_path(target: str | None, default: str = "/queue") -> str:
    """`target` when it is a path on this site (never another host), else `default`."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return default


def guard(sessions: Sessions) -> Callable[[Request, Callable], Awaitable[Response]]:
    """HTTP middleware: load the session, send strangers to /login, save the session if
    it changed, and put the security headers on every response."""

    async def middleware(request: Request, call_next: Callable) -> Response:
        request.state.session = sessions.load(request)
        before = dict(request.state.session)
        if current_user(request) is None and not is_public(request.url.path):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            response: Response = RedirectResponse(f"/login?next={quote(target)}", 303)
        else:
            response = await call_next(request)
        if request.state.session != before:
            sessions.save(request, response, request.state.session)
        response.headers.update(SECURITY_HEADERS)
        return response

    return middleware


def address_key(address: str) -> str:
    """A client address as the login limits count it: an IPv6 address by its /64 (one
    host or home usually has a whole /64 to pick from), anything else as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


class LoginLimiter:
    """Failed logins within `window` seconds, counted three ways:

    - per client address and user name (`per_pair`): guessing one account from one place;
    - per client address (`per_address`, higher: curators may share an office or a proxy);
    - per user name from every address (`per_user`): only a ceiling against guessing
      spread over many addresses. One address stops at `per_pair` failures for a name, so
      it takes `per_user / per_pair` addresses to reach it, and an address the user has
      logged in from within `known_for` seconds is exempt from it.

    So a stranger's failures lock out the stranger's address, never the curator logging
    in from elsewhere. A success does not reset the counts, so guessing stays slow.
    """

    def __init__(
        self,
        per_pair: int = 5,
        per_address: int = 20,
        per_user: int = 100,
        window: float = 900.0,
        known_for: float = 30 * 86400.0,
    ) -> None:
        self.window = window
        self.known_for = known_for
        self._limits = {"pair": per_pair, "address": per_address, "user": per_user}
        self._failures: dict[tuple[str, ...], deque[float]] = {}
        self._known: dict[tuple[str, str], float] = {}  # (address, user) -> last success

    def _count(self, key: tuple[str, ...], now: float) -> int:
        times = self._failures.get(key)  # a read never adds a key
        if times is None:
            return 0
        while times and times[0] <= now - self.window:
            times.popleft()
        return len(times)

    def _keys(self, address: str, user: str) -> list[tuple[str, ...]]:
        address, user = address_key(address), user.lower()
        return [("pair", address, user), ("address", address), ("user", user)]

    def _known_address(self, address: str, user: str, now: float) -> bool:
        seen = self._known.get((address_key(address), user.lower()))
        return seen is not None and seen > now - self.known_for

    def blocked(self, address: str, user: str) -> bool:
        now = time.monotonic()
        exempt = self._known_address(address, user, now)
        return any(
            self._count(key, now) >= self._limits[key[0]]
            for key in self._keys(address, user)
            if not (key[0] == "user" and exempt)
        )

    def failed(self, address: str, user: str) -> None:
        now = time.monotonic()
        for key in self._keys(address, user):
            self._failures.setdefault(key, deque()).append(now)

    def succeeded(self, address: str, user: str) -> None:
        self._known[(address_key(address), user.lower())] = time.monotonic()

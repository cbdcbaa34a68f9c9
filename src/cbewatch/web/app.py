"""The Starlette app: routes, login and logout, /healthz, and the middleware that
guards every page. Built by `create_app`; the daemon runs it on uvicorn. Handlers parse
the request, call the service layer off the event loop (`pages.call`), and render."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    JSONResponse,
    PlainTextResponse,
    RedirectResponse,
    Response,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..config import Settings
from ..errors import StoreError
from ..mail.links import mail_tokens
from ..services import accounts, upkeep
from ..store import StorePool
from . import issues, subscription
from .auth import (
    LoginLimiter,
    Sessions,
    checked_form,
    current_user,
    guard,
    load_secret,
    local_path,
    log_in,
    log_out,
    name_key,
)
from .pages import HERE, Operations, Web, call, render, web
from .queue import decide, item_page, queue_page
from .sources_page import add_discovered, discover_source, poll_now, poll_status, sources_page
from .subscribers_page import change_subscribers, subscribers_page

log = logging.getLogger("cbewatch.web")
# argon2id checks at once: each takes 64 MiB (argon2-cffi's RFC 9106 "low memory" profile:
# t=3, m=64 MiB, p=4) for ~50 ms; more logins at that moment are asked to retry.
PASSWORD_CHECKS = 2


async def login_page(request: Request) -> Response:
    if current_user(request):
        return RedirectResponse(local_path(request.query_params.get("next")), 303)
    return render(request, "login.html", next=request.query_params.get("next", "/queue"))


async def login(request: Request) -> Response:
    form = await checked_form(request)
    user = str(form.get("username", "")).strip()
    password = str(form.get("password", ""))
    target = local_path(str(form.get("next", "")))
    state = web(request)
    address = request.client.host if request.client else "?"
    known = state.sessions.known_user(request) == name_key(user)
    attempt = state.limiter.attempt(address, user, known)  # a failure until it succeeds
    if attempt is None:
        log.warning("login refused (rate limit): user %r from %s", user[:64], address)
        message = "Too many failed logins. Wait fifteen minutes and try again."
        return render(request, "login.html", 429, next=target, error=message)
    if state.password_checks.locked():
        # Each check takes 64 MiB for a while: a few at once, the rest asked to come back.
        state.limiter.withdraw(address, user, attempt, known)
        message = "Many logins at once: try again in a moment."
        response = render(request, "login.html", 429, next=target, error=message)
        response.headers["Retry-After"] = "2"
        return response
    async with state.password_checks:
        generation = await call(request, accounts.log_in, user, password)
    if generation is None:
        log.warning("login failed: user %r from %s", user[:64], address)
        message = "That user name and password do not match."
        return render(request, "login.html", 401, next=target, error=message)
    state.limiter.succeeded(address, user, attempt, known)
    log_in(request, user, generation)
    response = RedirectResponse(target, 303)
    state.sessions.mark_known(request, response, user)
    return response


async def logout_page(request: Request) -> Response:
    return render(request, "logout.html")


async def logout(request: Request) -> Response:
    await checked_form(request)
    user = current_user(request)
    if user is not None:
        # Server-side, so a copy of the cookie (another browser, a thief) dies too.
        await call(request, accounts.log_out, user)
    log_out(request)
    return RedirectResponse("/login", 303)


async def session_generation(request: Request, user: str) -> int | None:
    return await call(request, accounts.session_generation, user)


async def healthz(request: Request) -> Response:
    """Database, scheduler, last poll, failing sources; 503 when something is down."""
    scheduler = web(request).operations.scheduler_state()
    try:
        body, code = await call(request, upkeep.health, scheduler)
    except StoreError as exc:  # no connection could be opened to ask
        body, code = upkeep.health_unopened(scheduler, exc)
    return JSONResponse(body, status_code=code)


async def favicon(request: Request) -> Response:
    """Browsers ask for /favicon.ico on every site: our own small icon, not a 404."""
    return FileResponse(HERE / "static" / "favicon.ico", media_type="image/x-icon")


async def http_error(request: Request, exc: Exception) -> Response:
    """Errors as one plain sentence: a page for people, text for htmx and scripts."""
    assert isinstance(exc, HTTPException)
    if request.headers.get("accept", "").startswith("text/html"):
        return render(request, "error.html", exc.status_code, message=exc.detail)
    return PlainTextResponse(str(exc.detail), exc.status_code)


ROUTES = [
    Route("/", issues.archive, methods=["GET"]),
    Route("/feed.xml", issues.feed, methods=["GET"]),
    Route("/issues", issues.issues_page, methods=["GET"]),
    Route("/issues", issues.open_issue, methods=["POST"]),
    Route("/issues/{month}/", issues.issue_page, methods=["GET"]),
    Route("/issues/{month}/edit", issues.editor_page, methods=["GET"]),
    Route("/issues/{month}/edit", issues.edit_issue, methods=["POST"]),
    Route("/issues/{month}/preview", issues.preview, methods=["GET"]),
    Route("/issues/{month}/test", issues.send_test, methods=["POST"]),
    Route("/issues/{month}/check", issues.check_links, methods=["POST"]),
    Route("/issues/{month}/send", issues.send_issue, methods=["POST"]),
    Route("/issues/{month}/delivery", issues.delivery, methods=["GET"]),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout_page, methods=["GET"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/queue", queue_page),
    Route("/items/{item_id:int}", item_page, methods=["GET"]),
    Route("/items/{item_id:int}", decide, methods=["POST"]),
    Route("/sources", sources_page, methods=["GET"]),
    Route("/sources", poll_now, methods=["POST"]),
    Route("/sources/status", poll_status, methods=["GET"]),
    Route("/sources/discover", discover_source, methods=["POST"]),
    Route("/sources/add", add_discovered, methods=["POST"]),
    Route("/subscribers", subscribers_page, methods=["GET"]),
    Route("/subscribers", change_subscribers, methods=["POST"]),
    # A subscriber's own pages (public; the URL shapes are in mail/links.py, which
    # delivery puts in every email: keep the two in step).
    Route("/subscribe", subscription.subscribe_page, methods=["GET"]),
    Route("/subscribe", subscription.subscribe, methods=["POST"]),
    Route("/subscribe/confirm", subscription.confirm_page, methods=["GET"]),
    Route("/subscribe/confirm", subscription.confirm, methods=["POST"]),
    Route("/unsubscribe/{token}", subscription.unsubscribe_page, methods=["GET"]),
    Route("/unsubscribe/{token}", subscription.unsubscribe, methods=["POST"]),
    Route("/healthz", healthz),
    Route("/favicon.ico", favicon, methods=["GET"]),
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]


def create_app(settings: Settings, operations: Operations) -> Starlette:
    """The web app over the settings' database; `operations` is the daemon's side."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        stores = StorePool(settings.db_path)
        tokens = mail_tokens(settings)
        app.state.web = Web(
            settings,
            stores,
            operations,
            LoginLimiter(),
            tokens,
            sessions=sessions,
            password_checks=asyncio.Semaphore(PASSWORD_CHECKS),
        )
        try:
            yield
        finally:
            stores.close()

    sessions = Sessions(load_secret(settings.data_dir))
    return Starlette(
        routes=ROUTES,
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard(sessions, session_generation))],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )

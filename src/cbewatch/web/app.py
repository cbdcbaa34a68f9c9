"""The Starlette app: routes, login and logout, /healthz, and the middleware that
guards every page. Built by `create_app`; the daemon runs it on uvicorn."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, RedirectResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..accounts import check_password
from ..config import Settings
from ..store import Store
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
)
from .pages import HERE, Operations, Web, render, web
from .queue import decide, item_page, queue_page
from .sources_page import poll_now, sources_page

log = logging.getLogger("cbewatch.web")


async def home(request: Request) -> Response:
    # "/" belongs to the public archive (a later issue); until then it is the queue.
    return RedirectResponse("/queue", 303)


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
    attempt = state.limiter.attempt(address, user)  # counted as failed until it succeeds
    if attempt is None:
        log.warning("login refused (rate limit): user %r from %s", user[:64], address)
        message = "Too many failed logins. Wait fifteen minutes and try again."
        return render(request, "login.html", 429, next=target, error=message)
    # The generation first, then the hash: a new password set in between or during the
    # check has bumped it, so this login's session is refused rather than outliving it.
    generation = state.store.session_generation(user)
    stored = state.store.password_hash(user)
    matches = await run_in_threadpool(check_password, stored, password)
    if not matches or generation is None:
        log.warning("login failed: user %r from %s", user[:64], address)
        message = "That user name and password do not match."
        return render(request, "login.html", 401, next=target, error=message)
    state.limiter.succeeded(address, user, attempt)
    log_in(request, user, generation)
    return RedirectResponse(target, 303)


async def logout_page(request: Request) -> Response:
    return render(request, "logout.html")


async def logout(request: Request) -> Response:
    await checked_form(request)
    user = current_user(request)
    if user is not None:
        # Server-side, so a copy of the cookie (another browser, a thief) dies too.
        web(request).store.end_sessions(user)
    log_out(request)
    return RedirectResponse("/login", 303)


def session_generation(request: Request, user: str) -> int | None:
    return web(request).store.session_generation(user)


async def healthz(request: Request) -> Response:
    """Database, scheduler, last poll, failing sources; 503 when something is down."""
    state = web(request)
    body: dict[str, Any] = {"scheduler": state.operations.scheduler_state()}
    try:
        await run_in_threadpool(read_database_file, state.settings.db_path)
        body.update(state.store.health())
        body["database"] = "ok"
    except Exception as exc:  # the point of a health check: report, never raise
        body["database"] = f"error: {type(exc).__name__}"
    body["status"], code = health_verdict(body["database"], body["scheduler"])
    return JSONResponse(body, status_code=code)


def read_database_file(path: Path) -> None:
    """Read the database file afresh (its header and schema): the app's long-lived
    connection answers from its page cache even after the file on disk went bad."""
    with closing(sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)) as db:
        db.execute("SELECT count(*) FROM sqlite_schema").fetchone()


def health_verdict(database: str, scheduler: str) -> tuple[str, int]:
    """("ok", 200) when the database answers and the scheduler runs (or was turned off
    on purpose), else ("unavailable", 503)."""
    healthy = database == "ok" and scheduler in ("running", "off")
    return ("ok", 200) if healthy else ("unavailable", 503)


async def http_error(request: Request, exc: Exception) -> Response:
    """Errors as one plain sentence: a page for people, text for htmx and scripts."""
    assert isinstance(exc, HTTPException)
    if request.headers.get("accept", "").startswith("text/html"):
        return render(request, "error.html", exc.status_code, message=exc.detail)
    return PlainTextResponse(str(exc.detail), exc.status_code)


ROUTES = [
    Route("/", home),
    Route("/login", login_page, methods=["GET"]),
    Route("/login", login, methods=["POST"]),
    Route("/logout", logout_page, methods=["GET"]),
    Route("/logout", logout, methods=["POST"]),
    Route("/queue", queue_page),
    Route("/items/{item_id:int}", item_page, methods=["GET"]),
    Route("/items/{item_id:int}", decide, methods=["POST"]),
    Route("/sources", sources_page, methods=["GET"]),
    Route("/sources", poll_now, methods=["POST"]),
    Route("/healthz", healthz),
    Mount("/static", StaticFiles(directory=HERE / "static"), name="static"),
]


def create_app(settings: Settings, operations: Operations) -> Starlette:
    """The web app over the settings' database; `operations` is the daemon's side."""

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        store = Store(settings.db_path)
        app.state.web = Web(settings, store, operations, LoginLimiter())
        try:
            yield
        finally:
            store.close()

    sessions = Sessions(load_secret(settings.data_dir))
    return Starlette(
        routes=ROUTES,
        middleware=[Middleware(BaseHTTPMiddleware, dispatch=guard(sessions, session_generation))],
        exception_handlers={HTTPException: http_error},
        lifespan=lifespan,
    )

"""What every page shares: the Jinja2 templates (autoescaped), the app's state, the one
way to call the service layer (in a worker thread, with a store of its own, never on the
event loop) and the one way to render a page or an htmx fragment."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, tzinfo
from pathlib import Path
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from jinja2 import pass_context
from jinja2.runtime import Context
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from ..config import Settings
from ..mail.tokens import Tokens
from ..model.times import from_iso
from ..store import Store, StorePool
from .auth import LoginLimiter, Sessions, SubscribeLimiter, csrf_token, current_user

P = ParamSpec("P")
T = TypeVar("T")

HERE = Path(__file__).parent
MAX_ID = 2**63 - 1  # SQLite's largest integer: a bigger one in a URL names nothing
_NUMBER = re.compile(r"[0-9]{1,18}")  # ASCII digits only: "²".isdigit() is True
templates = Jinja2Templates(directory=HERE / "templates")
SNIPPET = 280


class Operations(Protocol):
    """What the daemon lets the web app see and do."""

    def scheduler_state(self) -> str:
        """'running', 'stopped' (it should run but does not) or 'off' (--no-scheduler)."""
        ...

    def poll_now(self, names: list[str]) -> bool:
        """Start polling these sources (all due ones when empty); False if a poll runs."""
        ...

    def polling(self) -> bool: ...

    def send_now(self, month: str) -> bool:
        """Start sending the month's approved issue to the list; False if a send runs."""
        ...

    def sending(self) -> str | None:
        """The month whose issue is being sent now, if any."""
        ...

    def send_result(self, month: str) -> str | None:
        """The summary line of the month's last send in this process, if any."""
        ...


@dataclass
class Web:
    """The app's long-lived parts, kept on `app.state.web`."""

    settings: Settings
    stores: StorePool
    operations: Operations
    limiter: LoginLimiter
    tokens: Tokens  # signs and reads the links in emails (confirm, unsubscribe)
    sessions: Sessions  # the session cookie and the known-browser cookie
    # At most this many password checks at once (argon2id: 64 MiB and ~50 ms each).
    password_checks: asyncio.Semaphore
    subscribe_limits: SubscribeLimiter = field(default_factory=SubscribeLimiter)


def web(request: Request) -> Web:
    return request.app.state.web


async def call(
    request: Request, service: Callable[Concatenate[Store, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """`service(store, *args, **kwargs)` in a worker thread, with a store no other thread
    is using: a slow write (or a slow password check) never stalls other requests."""
    stores = web(request).stores

    def run() -> T:
        with stores.borrow() as store:
            return service(store, *args, **kwargs)

    return await run_in_threadpool(run)


def form_version(form: dict[str, str]) -> int | None:
    """The version a form says its page showed (None when it says none); 400 when the
    field holds anything but a whole number."""
    text = form.get("version") or ""
    if not text:
        return None
    if not _NUMBER.fullmatch(text):
        raise HTTPException(400, "This form's version is not a number: reload the page.")
    return int(text)


def path_id(request: Request, name: str = "item_id") -> int:
    """A numeric path parameter within SQLite's range; 404 for one beyond it."""
    value = int(request.path_params[name])
    if not 0 < value <= MAX_ID:
        raise HTTPException(404, "There is no such item.")
    return value


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def render(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """A page (or fragment) with what every template may use: user, CSRF token, topics,
    and the zone its times are shown in."""
    settings = web(request).settings
    context.update(
        user=current_user(request),
        csrf=csrf_token(request),
        topics=[t.name for t in settings.topics],
        zone=settings.zone,
    )
    return templates.TemplateResponse(request, template, context, status_code=status)


def snippet(text: str | None) -> str:
    """The first words of a plain text, cut on a word boundary."""
    text = " ".join((text or "").split())
    if len(text) <= SNIPPET:
        return text
    return text[:SNIPPET].rsplit(" ", 1)[0] + "…"


def day(iso: str | None) -> str:
    return (iso or "")[:10]


def local_moment(iso: str | None, zone: tzinfo | None) -> str:
    """A stored UTC moment in `zone` (None: the server's local zone), to the minute,
    with the zone's abbreviation: "2026-11-03 09:05 EST"."""
    try:
        moment = from_iso(iso)
    except ValueError:  # not a moment the store wrote: show it as it is
        return iso or "—"
    if moment is None:
        return "—"
    if moment.tzinfo is None:  # the store writes UTC
        moment = moment.replace(tzinfo=UTC)
    shown = moment.astimezone(zone) if zone is not None else moment.astimezone()
    return shown.strftime("%Y-%m-%d %H:%M %Z").strip()


@pass_context
def moment(context: Context, iso: str | None) -> str:
    return local_moment(iso, context.get("zone"))


# A score (0–1) reads as high, medium or low: a third of the scale each. The queue's
# meter colours its bar at the same bounds.
SCORE_MEDIUM, SCORE_HIGH = 1 / 3, 2 / 3


def score_level(score: float) -> str:
    return "high" if score >= SCORE_HIGH else "medium" if score >= SCORE_MEDIUM else "low"


templates.env.filters.update(snippet=snippet, day=day, moment=moment, score_level=score_level)
templates.env.globals.update(score_medium=SCORE_MEDIUM, score_high=SCORE_HIGH)

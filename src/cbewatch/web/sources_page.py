"""The sources page: each source's health, its yield over six months (with a chart of
its new and accepted items a week), the sources that never yielded an item, the recent
job runs, and "poll now" (which hands the poll to the daemon, off the event loop).
Showing the page only reads: the config's sources were synced when `serve` started.
While a poll runs, the page asks `/sources/status` until it ends, then reloads."""

from __future__ import annotations

from markupsafe import Markup
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..errors import ConfigError
from ..services import sources as source_service
from .auth import checked_form
from .charts import weekly_bars
from .pages import call, render, web


async def sources_page(request: Request) -> Response:
    return await _page(request)


async def _page(request: Request, status: int = 200, **extra: object) -> Response:
    state = web(request)
    overview = await call(request, source_service.overview, state.settings)
    return render(
        request,
        "sources.html",
        status,
        **extra,
        rows=overview.rows,
        never_yielded=[r["name"] for r in overview.rows if r["items"] == 0],
        runs=overview.runs,
        yields=[(row, _chart(row)) for row in overview.yields],
        polling=state.operations.polling(),
        notice=request.query_params.get("notice"),
    )


async def discover_source(request: Request) -> Response:
    """POST /sources/discover: look for a feed, sitemap or list at the pasted URL and
    show the proposal (nothing is written)."""
    form = await checked_form(request)
    url = str(form.get("url") or "").strip()
    if not _web_address(url):
        return await _page(request, 400, found=f"{url!r} is not a web address (https://…).")
    proposal = await source_service.propose_source(web(request).settings, url)
    if proposal is None:
        found = f"Found no feed, sitemap or list of articles at {url}."
        return await _page(request, 200, found=found, asked=url)
    return await _page(request, 200, proposal=proposal, asked=url)


async def add_discovered(request: Request) -> Response:
    """POST /sources/add: look again at the URL (the proposal is never taken from the
    form) and append its entry to the config file."""
    form = await checked_form(request)
    url = str(form.get("url") or "").strip()
    settings = web(request).settings
    proposal = await source_service.propose_source(settings, url) if _web_address(url) else None
    if proposal is None:
        return await _page(request, 400, found=f"Found nothing to follow at {url}.", asked=url)
    try:
        await run_in_threadpool(source_service.add_proposal, settings, proposal)
    except ConfigError as exc:
        return await _page(request, 409, found=f"Not added: {exc}", asked=url)
    added = (
        f"Added {proposal.name} to {settings.path}. It is polled once serve restarts "
        "(for example: systemctl restart cbewatch)."
    )
    return await _page(request, 200, found=added)


def _web_address(url: str) -> bool:
    return url.startswith(("http://", "https://")) and len(url) <= 2000


def _chart(row: source_service.SourceYield) -> Markup:
    weeks = len(row.new_per_week)
    label = (
        f"{row.name}: {sum(row.new_per_week)} new and {sum(row.accepted_per_week)} accepted "
        f"items in the last {weeks} weeks"
    )
    return weekly_bars(row.new_per_week, row.accepted_per_week, label)


async def poll_status(request: Request) -> Response:
    """GET /sources/status: the "a poll is running" note while one runs; once it has
    ended, htmx is told to reload the page (and a plain GET gets a link)."""
    if web(request).operations.polling():
        return render(request, "_poll_status.html")
    done = "/sources?notice=done"
    return HTMLResponse(
        f'<p class="message" role="status">The poll has ended: <a href="{done}">see its '
        "results</a>.</p>",
        headers={"HX-Redirect": done},
    )


async def poll_now(request: Request) -> Response:
    """POST /sources: poll one source (`name`) or every due one, in the background."""
    form = await checked_form(request)
    state = web(request)
    names = source_service.poll_names(state.settings, str(form.get("name") or ""))
    started = state.operations.poll_now(names)
    notice = "started" if started else "busy"
    return RedirectResponse(f"/sources?notice={notice}", 303)

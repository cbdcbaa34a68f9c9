"""The sources page: each source's health, the sources that never yielded an item, the
recent job runs, and "poll now" (which hands the poll to the daemon, off the event loop)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..pipeline import source_rows
from .auth import checked_form
from .pages import render, web


async def sources_page(request: Request) -> Response:
    state = web(request)
    rows = source_rows(state.settings, state.store)
    return render(
        request,
        "sources.html",
        rows=rows,
        never_yielded=[r["name"] for r in rows if r["items"] == 0],
        runs=state.store.recent_job_runs(),
        polling=state.operations.polling(),
        notice=request.query_params.get("notice"),
    )


async def poll_now(request: Request) -> Response:
    """POST /sources: poll one source (`name`) or every due one, in the background."""
    form = await checked_form(request)
    state = web(request)
    name = str(form.get("name") or "")
    names = [name] if state.settings.source(name) else []
    started = state.operations.poll_now(names)
    notice = "started" if started else "busy"
    return RedirectResponse(f"/sources?notice={notice}", 303)

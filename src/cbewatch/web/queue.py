"""The queue and item pages: filters, keyset pages, and the curators' decisions.

Every action is a plain form POST to /items/{id} (it redirects back) that htmx sends in
place (it answers with the item's fragment). A change to an item someone else changed
meanwhile is refused with the item as it is now: nothing is overwritten silently. The
rules are the service layer's (`services.curation`); this module parses and renders.
"""

from __future__ import annotations

import re
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import NoSuchItem, NothingToUndo, TriageError, VersionConflict
from ..model.types import ITEM_STATUSES, QueueCursor, QueueQuery
from ..sanitize import clean_html
from ..services import curation
from .auth import checked_form, current_user, local_path
from .pages import call, form_version, is_htmx, path_id, render, web

PAGE_SIZE = 50
FILTERS = ("status", "source", "topic", "month", "q")
_MONTH = re.compile(r"^\d{4}-\d{2}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def queue_query(params: dict[str, str]) -> QueueQuery:
    """The filters from a query string; unknown values filter nothing. 400 for search
    text with control characters (no keyboard types them)."""
    status = params.get("status", "new")
    month = params.get("month", "")
    if _CONTROL.search(params.get("q", "")):
        raise HTTPException(400, "Search text cannot hold control characters.")
    return QueueQuery(
        status=status if status in ITEM_STATUSES else None,
        source=params.get("source") or None,
        topic=params.get("topic") or None,
        month=month if _MONTH.match(month) else None,
        search=(params.get("q") or "").strip()[:200] or None,
    )


async def queue_page(request: Request) -> Response:
    params = dict(request.query_params)
    after = QueueCursor.from_token(params.get("after"))
    if after is None and params.get("after"):
        raise HTTPException(400, "That link to a later page is broken: start from the first page.")
    sections = [t.name for t in web(request).settings.topics]
    page = await call(request, curation.queue_page, queue_query(params), after, PAGE_SIZE, sections)
    kept = {k: v for k, v in params.items() if k in FILTERS}
    kept.setdefault("status", "new")
    next_url = f"/queue?{urlencode({**kept, 'after': page.next.token()})}" if page.next else None
    # The same filters without the search text: the "clear search" link.
    unsearched = {k: v for k, v in kept.items() if k != "q"}
    return render(
        request,
        "queue.html",
        items=page.items,
        total=page.total,
        sections_month=page.month,
        sections=page.sections,
        count_cap=curation.COUNT_CAP,
        clear_search_url=f"/queue?{urlencode(unsearched)}" if kept.get("q") else None,
        filters=kept,
        choices=page.choices,
        statuses=ITEM_STATUSES,
        next_url=next_url,
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


async def item_page(request: Request) -> Response:
    try:
        page = await call(request, curation.item_page, path_id(request))
    except NoSuchItem:
        raise HTTPException(404, "There is no such item.") from None
    return _item_view(request, page)


def _item_view(
    request: Request, page: curation.ItemPage, message: str | None = None, status: int = 200
) -> Response:
    item = page.item
    body = clean_html(item.html or item.summary or "", item.url)
    return render(
        request,
        "item.html",
        status,
        item=item,
        body=body,
        audit=page.audit,
        message=message,
        here=f"/items/{item.id}",
    )


async def decide(request: Request) -> Response:
    """POST /items/{id}: accept, reject, reopen, topic, blurb or undo."""
    form = {k: str(v) for k, v in (await checked_form(request)).items()}
    item_id = path_id(request)
    version = form_version(form)
    topics = [t.name for t in web(request).settings.topics]
    try:
        item = await call(
            request,
            curation.act,
            item_id,
            form.get("action", ""),
            current_user(request) or "?",
            version,
            topic=form.get("topic", ""),
            blurb=form.get("blurb") or "",
            topics=topics,
        )
    except NoSuchItem:
        raise HTTPException(404, "There is no such item.") from None
    except TriageError as exc:
        raise HTTPException(400, str(exc)) from None
    except (VersionConflict, NothingToUndo) as refusal:
        return await _refused(request, str(refusal), form)
    if is_htmx(request):
        return render(request, "_item.html", item=item, here=form.get("next", "/queue"))
    return RedirectResponse(local_path(form.get("next")), 303)


async def _refused(request: Request, message: str, form: dict[str, str]) -> Response:
    """409 with the item as it is now, in place (htmx) or as its page."""
    page = await call(request, curation.item_page, path_id(request))
    if is_htmx(request):
        return render(
            request, "_item.html", 409, item=page.item, message=message, here=form.get("next")
        )
    return _item_view(request, page, message, 409)

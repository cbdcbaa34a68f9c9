"""The queue and item pages: filters, keyset pages, and the curators' decisions.

Every action is a plain form POST to /items/{id} (it redirects back) that htmx sends in
place (it answers with the item's fragment). A change to an item someone else changed
meanwhile is refused with the item as it is now: nothing is overwritten silently.
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..sanitize import clean_html
from ..store import (
    ITEM_STATUSES,
    NothingToUndo,
    QueueCursor,
    QueueQuery,
    VersionConflict,
)
from ..triage import TriageError, decision_changes
from .auth import checked_form, current_user, local_path
from .pages import is_htmx, render, web

PAGE_SIZE = 50
BLURB_MAX = 1000
ACTIONS = ("accept", "reject", "reopen", "topic", "blurb", "undo")
FILTERS = ("status", "source", "topic", "month", "q")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def queue_query(params: dict[str, str]) -> QueueQuery:
    """The filters from a query string; unknown values filter nothing."""
    status = params.get("status", "new")
    month = params.get("month", "")
    return QueueQuery(
        status=status if status in ITEM_STATUSES else None,
        source=params.get("source") or None,
        topic=params.get("topic") or None,
        month=month if _MONTH.match(month) else None,
        search=(params.get("q") or "").strip()[:200] or None,
    )


async def queue_page(request: Request) -> Response:
    params = dict(request.query_params)
    store = web(request).store
    after = QueueCursor.from_token(params.get("after"))
    items, cursor = store.queue_page(queue_query(params), after, PAGE_SIZE)
    kept = {k: v for k, v in params.items() if k in FILTERS}
    kept.setdefault("status", "new")
    next_url = f"/queue?{urlencode({**kept, 'after': cursor.token()})}" if cursor else None
    return render(
        request,
        "queue.html",
        items=items,
        filters=kept,
        choices=store.queue_choices(),
        statuses=ITEM_STATUSES,
        next_url=next_url,
        here=str(request.url.path) + (f"?{request.url.query}" if request.url.query else ""),
    )


def _item_or_404(request: Request) -> dict[str, Any]:
    item = web(request).store.queue_item(int(request.path_params["item_id"]))
    if item is None:
        raise HTTPException(404, "There is no such item.")
    return item


async def item_page(request: Request) -> Response:
    item = _item_or_404(request)
    return _item_view(request, item)


def _item_view(
    request: Request, item: dict[str, Any], message: str | None = None, status: int = 200
) -> Response:
    store = web(request).store
    body = clean_html(item["html"] or item["summary"] or "", item["url"])
    return render(
        request,
        "item.html",
        status,
        item=item,
        body=body,
        audit=store.audit_log(item["id"]),
        message=message,
        here=f"/items/{item['id']}",
    )


def form_changes(
    item: dict[str, Any], action: str, form: dict[str, str], topics: list[str]
) -> dict[str, Any]:
    """What an action changes on an item, from the posted form; 400 when it is wrong.
    Accept and reject follow the same rules as `cbewatch triage`."""
    if action in ("accept", "reject"):
        status = {"accept": "accepted", "reject": "rejected"}[action]
        try:
            return decision_changes(item, status)
        except TriageError as exc:
            raise HTTPException(400, f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
    if action == "reopen":
        return {"status": "new"}
    if action == "topic":
        topic = form.get("topic", "")
        if topic and topic not in topics:
            raise HTTPException(400, f"{topic!r} is not one of the newsletter's topics.")
        return {"topic": topic or None}
    if action == "blurb":
        blurb = (form.get("blurb") or "").strip()
        if len(blurb) > BLURB_MAX:
            raise HTTPException(400, f"A blurb has at most {BLURB_MAX} characters.")
        return {"blurb": blurb or None}
    raise HTTPException(400, f"Unknown action; use one of {', '.join(ACTIONS)}.")


async def decide(request: Request) -> Response:
    """POST /items/{id}: accept, reject, reopen, topic, blurb or undo."""
    form = {k: str(v) for k, v in (await checked_form(request)).items()}
    item = _item_or_404(request)
    who = current_user(request) or "?"
    version = int(form["version"]) if form.get("version", "").isdigit() else None
    action = form.get("action", "")
    store = web(request).store
    try:
        if action == "undo":
            item = store.undo_decision(item["id"], who, version)
        else:
            topics = [t.name for t in web(request).settings.topics]
            changes = form_changes(item, action, form, topics)
            item = store.set_decision(item["id"], changes, who, version, action)
    except VersionConflict as conflict:
        return _refused(request, conflict.current, str(conflict), form)
    except NothingToUndo as nothing:
        return _refused(request, item, str(nothing), form)
    if is_htmx(request):
        return render(request, "_item.html", item=item, here=form.get("next", "/queue"))
    return RedirectResponse(local_path(form.get("next")), 303)


def _refused(request: Request, current: dict[str, Any], message: str, form: dict) -> Response:
    """409 with the item as it is now, in place (htmx) or as its page."""
    if is_htmx(request):
        return render(
            request, "_item.html", 409, item=current, message=message, here=form.get("next")
        )
    return _item_view(request, current, message, 409)

"""The curators' subscriber page (`/subscribers`, login required): how many addresses
have each status, the newest ones, a form to add one (confirmed only when the curator
ticks that the person consented; otherwise a confirmation email asks them) and a remove
button per address. Showing the page only reads; every POST carries the CSRF token.
"""

from __future__ import annotations

import logging
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from ..errors import DeliveryError, SubscriberError
from ..mail.opt_in import Step
from ..model.types import SUBSCRIBER_STATUSES
from ..services import subscribers as subscriber_service
from .auth import checked_form, current_user
from .pages import call, render, web

log = logging.getLogger("cbewatch.web")

SHOWN = 200  # the newest this many; `cbewatch subscribers export` has the whole list
NOTICES = {
    "added": "Added, confirmed.",
    "asked": "Added as pending: a confirmation email is on its way to them.",
    "already": "That address is on the list already, confirmed.",
    "removed": "Removed from the list.",
    "gone": "That address was not on the list any more.",
}


async def subscribers_page(request: Request) -> Response:
    status = request.query_params.get("status")
    view = await call(request, subscriber_service.overview, SHOWN, status)
    notice = NOTICES.get(request.query_params.get("notice", ""))
    return render(
        request, "subscribers.html", view=view, statuses=SUBSCRIBER_STATUSES, notice=notice
    )


async def change_subscribers(request: Request) -> Response:
    """POST /subscribers: `action` add (email, name, consented) or remove (id)."""
    form = await checked_form(request)
    action = str(form.get("action", ""))
    if action == "remove":
        raw = str(form.get("id", ""))
        if not raw.isdigit():
            return await _page_with(request, "Say which subscriber to remove.", 400)
        gone = await call(request, subscriber_service.remove_one, int(raw))
        if gone is not None:
            log.info("%s removed a subscriber", current_user(request))
        return _back("removed" if gone else "gone")
    if action != "add":
        return await _page_with(request, "That is not something this page can do.", 400)
    email, name = str(form.get("email", "")), str(form.get("name", ""))
    consented = form.get("consented") == "yes"
    state = web(request)
    try:
        outcome = await call(
            request,
            subscriber_service.add,
            state.settings,
            state.tokens,
            email,
            name,
            consented=consented,
            source=f"curator:{current_user(request)}",
        )
    except SubscriberError as exc:
        return await _page_with(request, str(exc), 400, email=email, name=name)
    except DeliveryError as exc:
        log.error("subscribers: the confirmation email was not sent: %s", exc)
        message = (
            f"The address is on the list as pending, but the confirmation email was not sent "
            f"({exc}). Add it again later to resend."
        )
        return await _page_with(request, message, 503)
    if outcome.step is Step.ALREADY:
        return _back("already")
    return _back("added" if outcome.subscriber.status == "confirmed" else "asked")


def _back(notice: str) -> Response:
    return RedirectResponse("/subscribers?" + urlencode({"notice": notice}), 303)


async def _page_with(
    request: Request, error: str, status: int, email: str = "", name: str = ""
) -> Response:
    view = await call(request, subscriber_service.overview, SHOWN, None)
    return render(
        request,
        "subscribers.html",
        status,
        view=view,
        statuses=SUBSCRIBER_STATUSES,
        error=error,
        email=email[:320],
        name=name[:100],
    )

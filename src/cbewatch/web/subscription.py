"""The subscribers' public pages, no login: the subscribe form (`/subscribe`), the
confirmation link (`/subscribe/confirm?token=…`) and the unsubscribe link
(`/unsubscribe/{token}`, RFC 8058 one-click). The rules are `services.subscribers`';
this module parses, limits and renders.

Never: change anything on a GET (mail scanners follow links: only a POST confirms or
unsubscribes); answer the form differently for an address on the list and one that is
not; set a cookie or run a script on these pages; let a mail server's failure become a
500.
"""

from __future__ import annotations

import logging
from typing import Any

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response

from ..errors import DeliveryError, SubscriberError
from ..mail.links import base_url
from ..mail.tokens import CONFIRM_DAYS, BadToken
from ..services import subscribers as subscriber_service
from .pages import call, templates, web

log = logging.getLogger("cbewatch.web")

# Like the archive's pages: our own inline styles, no script, forms only to this site.
PUBLIC_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
MAX_FORM_BYTES = 8192  # an address, a name, a token: far less; a bigger body is not ours
HONEYPOT = "website"  # hidden from people by the page's CSS; bots fill it in


def public_page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    """A subscriber's page: no session, no CSRF token (so no cookie), its own CSP."""
    settings = web(request).settings
    context.update(newsletter_title=settings.newsletter.title, archive_url=base_url(settings))
    response = templates.TemplateResponse(request, template, context, status_code=status)
    response.headers["Content-Security-Policy"] = PUBLIC_CSP
    # Token links must not linger in caches or leak to the next site in a Referer.
    response.headers["Cache-Control"] = "no-store"
    response.headers["Referrer-Policy"] = "no-referrer"
    return response


def _notice(
    request: Request, status: int, title: str, *paragraphs: str, again: bool = False
) -> Response:
    return public_page(
        request,
        "public_notice.html",
        status,
        title=title,
        paragraphs=paragraphs,
        subscribe_link=again,
    )


async def _small_form(request: Request) -> FormData | None:
    """The POSTed form, or None when its body is larger than any of ours."""
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_FORM_BYTES:
        return None
    body = await request.body()
    if len(body) > MAX_FORM_BYTES:  # sent in chunks, without a length
        return None
    return await request.form(max_files=0, max_fields=10)


def _client(request: Request) -> str:
    return request.client.host if request.client else "?"


# -- subscribe ------------------------------------------------------------------------


async def subscribe_page(request: Request) -> Response:
    return public_page(request, "subscribe.html", title="Subscribe", email="", name="")


async def subscribe(request: Request) -> Response:
    """POST /subscribe: every address gets the same answer (see services.subscribers)."""
    state = web(request)
    address = _client(request)
    if not state.subscribe_limits.allow(address):
        log.warning("subscribe refused (rate limit) from %s", address)
        return _notice(
            request,
            429,
            "Too many requests",
            "There have been too many subscribe requests from your network. "
            "Wait an hour and try again.",
        )
    form = await _small_form(request)
    if form is None:
        return _notice(request, 413, "Too large", "That request is larger than the form sends.")
    if str(form.get(HONEYPOT, "")).strip():
        log.info("subscribe ignored (the hidden field was filled) from %s", address)
        return _check_your_inbox(request)
    email, name = str(form.get("email", "")), str(form.get("name", ""))
    try:
        await call(
            request,
            subscriber_service.subscribe,
            state.settings,
            state.tokens,
            email,
            name,
            may_mail=state.subscribe_limits.may_mail,
        )
    except SubscriberError as exc:
        context = {"email": email[:320], "name": name[:100], "error": str(exc)}
        return public_page(request, "subscribe.html", 400, title="Subscribe", **context)
    except DeliveryError as exc:
        log.error("subscribe: the confirmation email was not sent: %s", exc)
        return _notice(
            request,
            503,
            "Please try again later",
            "We could not send the confirmation email just now. Please try again in a few minutes.",
        )
    return _check_your_inbox(request)


def _check_your_inbox(request: Request) -> Response:
    return _notice(
        request,
        200,
        "Check your inbox",
        "We have sent an email to the address you gave. Open the link in it and press "
        "Confirm to start getting the newsletter.",
        f"The link works for {CONFIRM_DAYS} days. If nothing arrives in a few minutes, "
        "look in your spam folder.",
    )


# -- confirm --------------------------------------------------------------------------


async def confirm_page(request: Request) -> Response:
    """GET /subscribe/confirm?token=…: the Confirm button; reads the token, changes nothing."""
    token = request.query_params.get("token", "")
    try:
        email = subscriber_service.confirming_address(web(request).tokens, token)
    except BadToken as bad:
        return _bad_confirm(request, bad)
    return public_page(
        request, "confirm.html", title="Confirm your subscription", email=email, token=token
    )


async def confirm(request: Request) -> Response:
    """POST /subscribe/confirm: the button's form; the signed token is the proof."""
    form = await _small_form(request)
    token = str(form.get("token", "")) if form is not None else ""
    state = web(request)
    try:
        await call(request, subscriber_service.confirm, state.tokens, token)
    except BadToken as bad:
        return _bad_confirm(request, bad)
    return _notice(
        request,
        200,
        "You are subscribed",
        "Thank you: you will get the next issue by email.",
        "Every issue has a link to unsubscribe with one click.",
    )


def _bad_confirm(request: Request, bad: BadToken) -> Response:
    if bad.expired:
        return _notice(
            request,
            400,
            "This link has expired",
            f"Confirmation links work for {CONFIRM_DAYS} days. Subscribe again to get a new one.",
            again=True,
        )
    return _notice(
        request,
        400,
        "This link does not work",
        "This confirmation link is not valid, or no longer is. Subscribe again to get a new one.",
        again=True,
    )


# -- unsubscribe ----------------------------------------------------------------------


async def unsubscribe_page(request: Request) -> Response:
    """GET /unsubscribe/{token}: one button; changes nothing."""
    token = str(request.path_params["token"])
    try:
        email = subscriber_service.unsubscribing_address(web(request).tokens, token)
    except BadToken:
        return _bad_unsubscribe(request)
    return public_page(request, "unsubscribe.html", title="Unsubscribe", email=email)


async def unsubscribe(request: Request) -> Response:
    """POST /unsubscribe/{token}: at once, no login, no CSRF token: what a mail client
    sends for RFC 8058 one-click (`List-Unsubscribe=One-Click`), and the page's button.
    The body is not needed: the signed token says who."""
    token = str(request.path_params["token"])
    try:
        changed = await call(request, subscriber_service.unsubscribe, web(request).tokens, token)
    except BadToken:
        return _bad_unsubscribe(request)
    if changed:
        log.info("unsubscribed a subscriber by their link")
    return _notice(
        request,
        200,
        "You are unsubscribed",
        "You will get no more issues. If that was a mistake, subscribe again.",
        again=True,
    )


def _bad_unsubscribe(request: Request) -> Response:
    return _notice(
        request,
        400,
        "This link does not work",
        "This unsubscribe link is not valid: use the link in the newsletter's latest issue, "
        "or write to the address the newsletter comes from.",
    )

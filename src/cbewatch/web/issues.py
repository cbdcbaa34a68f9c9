"""The issue pages: the curators' list of issues and the editor (every change a plain
form POST that htmx sends in place; a change to an issue someone else changed meanwhile
is refused with the issue as it is now), the email preview, a test copy, the link check;
and the public archive (`/`, `/issues/YYYY-MM/`, `/feed.xml`), which needs no login.
The rules are `services.issues`'; this module parses and renders.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response

from ..errors import DeliveryError, IssueConflict, IssueError
from ..services import issues as issue_service
from ..services import publishing
from ..services.delivery import delivery_view
from .auth import checked_form, session
from .pages import call, form_version, is_htmx, render, web

# Rendered newsletter pages carry their own inline styles (email clients need them), and
# no script: this policy allows the one and forbids the other.
NEWSLETTER_CSP = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src https: http: data:; "
    "base-uri 'none'; form-action {forms}; frame-ancestors {ancestors}"
)
_ORIGIN = re.compile(r"https?://[A-Za-z0-9.\-]+(:\d+)?")


def _month(request: Request) -> str:
    month = str(request.path_params["month"])
    try:
        return issue_service.checked_month(month)
    except IssueError:
        raise HTTPException(404, "There is no such month: issues are named like 2026-11.") from None


# -- the curators' side ---------------------------------------------------------------


async def issues_page(request: Request) -> Response:
    rows = await call(request, issue_service.months)
    return render(request, "issues.html", rows=rows, suggested=publishing.suggested_months())


async def open_issue(request: Request) -> Response:
    """POST /issues: start (or open) a month's issue."""
    form = await checked_form(request)
    month = str(form.get("month", "")).strip()
    try:
        await call(request, issue_service.open_draft, web(request).settings, month)
    except IssueError as exc:
        raise HTTPException(400, f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
    return RedirectResponse(f"/issues/{month}/edit", 303)


async def editor_page(request: Request) -> Response:
    month = _month(request)
    view = await call(request, publishing.editor_view, web(request).settings, month)
    if view is None:
        return render(request, "issue_start.html", month=month)
    return _render_editor(request, view)


async def edit_issue(request: Request) -> Response:
    """POST /issues/{month}/edit: one editor action (see services.issues.ACTIONS)."""
    month = _month(request)
    form = {k: str(v) for k, v in (await checked_form(request)).items()}
    version = form_version(form)
    settings = web(request).settings
    status, message = 200, None
    try:
        await call(request, issue_service.act, settings, month, version, form)
    except IssueConflict as conflict:
        status, message = 409, str(conflict)
    except IssueError as exc:
        status, message = 400, f"{str(exc)[:1].upper()}{str(exc)[1:]}."
    if status == 200 and not is_htmx(request):
        return RedirectResponse(f"/issues/{month}/edit", 303)
    return await _editor(request, month, message, status)


async def _editor(request: Request, month: str, message: str | None, status: int) -> Response:
    view = await call(request, publishing.editor_view, web(request).settings, month)
    return _render_editor(request, view, message, status)


def _render_editor(
    request: Request,
    view: publishing.EditorView | None,
    message: str | None = None,
    status: int = 200,
    **extra: object,
) -> Response:
    """The editor: the fragment for htmx, else the whole page."""
    if view is None:
        raise HTTPException(404, "There is no issue for that month yet.")
    template = "_issue_editor.html" if is_htmx(request) else "issue_edit.html"
    test_to = session(request).get("test_to")
    return render(
        request,
        template,
        status,
        view=view,
        message=message,
        test_to=test_to,
        **_sending(request, view.issue.month),
        **extra,
    )


def _sending(request: Request, month: str) -> dict[str, object]:
    operations = web(request).operations
    return {"running": operations.sending() == month, "result": operations.send_result(month)}


async def send_issue(request: Request) -> Response:
    """POST /issues/{month}/send: send the approved issue to the list, in the background
    (the box with `confirm=yes` ticked; without it nothing is sent)."""
    month = _month(request)
    form = await checked_form(request)
    if form.get("confirm") != "yes":
        message = "Nothing was sent: tick the box that confirms the send first."
        return await _editor(request, month, message, 400)
    if not (await call(request, delivery_view, month)).approved:
        return await _editor(request, month, "Approve the issue before sending it.", 400)
    if web(request).operations.send_now(month):
        message = f"Sending the {month} issue: the counts below follow it as it goes."
    else:
        message = "A send is running already; the counts below follow it."
    return await _editor(request, month, message, 200)


async def delivery(request: Request) -> Response:
    """GET /issues/{month}/delivery: the send's counts (the page asks every 2 s while a
    send runs). Reads only."""
    month = _month(request)
    view = await call(request, delivery_view, month)
    return render(request, "_delivery.html", delivery=view, **_sending(request, month))


async def preview(request: Request) -> Response:
    """The email as subscribers will see it, for the editor's frame."""
    month = _month(request)
    html = await call(request, publishing.email_preview, web(request).settings, month)
    if html is None:
        raise HTTPException(404, "There is no issue for that month yet.")
    return _newsletter_page(html, ancestors="'self'")


async def send_test(request: Request) -> Response:
    """POST /issues/{month}/test: one copy of the email to the address given."""
    month = _month(request)
    form = await checked_form(request)
    to = str(form.get("to", "")).strip()
    try:
        sent = await call(request, publishing.send_test, web(request).settings, month, to)
    except (IssueError, DeliveryError) as exc:
        return await _editor(request, month, f"The test was not sent: {exc}.", 400)
    session(request)["test_to"] = sent
    return await _editor(request, month, f"A test copy went to {sent}.", 200)


async def check_links(request: Request) -> Response:
    """POST /issues/{month}/check: fetch every link of the issue and say which fail."""
    month = _month(request)
    await checked_form(request)
    settings = web(request).settings
    issue = await call(request, issue_service.current, settings, month)
    problems = await publishing.link_problems(settings, issue)
    view = await call(request, publishing.editor_view, settings, month)
    return _render_editor(request, view, link_problems=problems)


# -- the public archive ---------------------------------------------------------------


async def archive(request: Request) -> Response:
    settings = web(request).settings
    html = await call(request, publishing.archive_page, settings)
    # Its subscribe form posts to base_url, which may name this site by another origin
    # (a proxy's public name) than the one the page was asked by.
    return _newsletter_page(html, forms=_self_and(settings.newsletter.base_url))


async def issue_page(request: Request) -> Response:
    month = _month(request)
    html = await call(request, publishing.issue_page, web(request).settings, month)
    if html is None:
        raise HTTPException(404, "There is no published issue for that month.")
    return _newsletter_page(html)


async def feed(request: Request) -> Response:
    xml = await call(request, publishing.feed, web(request).settings)
    return Response(xml, media_type="application/atom+xml; charset=utf-8")


def _self_and(url: str) -> str:
    """'self' and the URL's origin, when it is one a CSP can hold as it is."""
    parts = urlsplit(url)
    origin = f"{parts.scheme}://{parts.netloc}"
    return f"'self' {origin}" if _ORIGIN.fullmatch(origin) else "'self'"


def _newsletter_page(html: str, ancestors: str = "'none'", forms: str = "'self'") -> Response:
    response = HTMLResponse(html)
    csp = NEWSLETTER_CSP.format(ancestors=ancestors, forms=forms)
    response.headers["Content-Security-Policy"] = csp
    if ancestors == "'self'":
        response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response

"""The issue as readers get it: the editor's view with its checks, the email preview and
a test copy, the public archive (pages and feed) and its static copy, the blog export,
and a past roundup imported into the archive."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from functools import cache
from pathlib import Path

from ..config import Settings
from ..errors import IssueError
from ..http import HttpClient
from ..mail.compose import IssueMail, issue_message
from ..mail.smtp import send_message
from ..model.types import Issue, IssueEntry
from ..newsletter.exports import export as export_issue
from ..newsletter.importer import canonical_urls, import_roundup
from ..newsletter.links import check_links, links_of
from ..newsletter.lint import lint
from ..newsletter.render import Renderer
from ..newsletter.site import SiteReport, build_site
from ..store import Store
from . import issues as issue_service
from .delivery import DeliveryView, delivery_view
from .upkeep import optimize

_ADDRESS = re.compile(r"^[^@\s<>,;]+@[^@\s<>,;]+\.[^@\s<>,;]+$")


@cache
def renderer(settings: Settings) -> Renderer:
    """One renderer (its Jinja2 environment and compiled templates) per config."""
    return Renderer(settings)


@dataclass(frozen=True)
class EditorView:
    """What the editor shows: the newest revision, its checks, and what carry-over adds."""

    issue: Issue
    problems: list[str]
    carry_over: int
    delivery: DeliveryView  # whether a revision is approved, and its send


def editor_view(store: Store, settings: Settings, month: str) -> EditorView | None:
    """None when the month has no issue yet (opening one is a POST)."""
    issue = store.issues.latest(issue_service.checked_month(month))
    if issue is None:
        return None
    return EditorView(
        issue=issue,
        problems=email_problems(settings, issue),
        carry_over=issue_service.carry_over_count(store, month),
        delivery=delivery_view(store, month),
    )


def email_problems(settings: Settings, issue: Issue) -> list[str]:
    """The email lint, a sentence per problem (size, images, placeholders, …)."""
    return [str(p) for p in lint(issue, renderer(settings).email_html(issue))]


def email_preview(store: Store, settings: Settings, month: str) -> str | None:
    issue = store.issues.latest(issue_service.checked_month(month))
    return renderer(settings).email_html(issue) if issue else None


def send_test(store: Store, settings: Settings, month: str, to: str) -> str:
    """One copy of the month's issue (as it is now) to `to`; returns the address."""
    to = to.strip()
    if not _ADDRESS.match(to) or len(to) > 254:
        raise IssueError(f"{to!r} is not an email address")
    issue = issue_service.current(store, settings, month)
    send_message(settings, issue_message(settings, to, issue_mail(settings, issue, test=True)))
    return to


def issue_mail(settings: Settings, issue: Issue, test: bool = False) -> IssueMail:
    """The issue rendered for email once (its unsubscribe link a placeholder each copy
    fills in); a test copy's subject says so."""
    render = renderer(settings)
    subject = f"{issue.title} — {_month_name(issue.month)}"
    return IssueMail(
        subject=f"[Test] {subject}" if test else subject,
        text=render.email_text(issue),
        html=render.email_html(issue),
    )


async def link_problems(settings: Settings, issue: Issue) -> list[str]:
    """Every link of the issue fetched through the one HTTP client; the ones that fail."""
    async with HttpClient(settings.network, settings.user_agent) as client:
        return [str(p) for p in await check_links(links_of(issue), client)]


def archive_page(store: Store, settings: Settings) -> str:
    return renderer(settings).archive_page(store.issues.published())


def issue_page(store: Store, settings: Settings, month: str) -> str | None:
    issue = issue_service.published_issue(store, month)
    return renderer(settings).issue_page(issue) if issue else None


def feed(store: Store, settings: Settings) -> str:
    return renderer(settings).feed(store.issues.published())


def build(store: Store, settings: Settings, out: Path) -> SiteReport:
    """The public archive as static files in `out` (only what changed is rewritten)."""
    return build_site(store.issues.published(), renderer(settings), out)


def export(store: Store, settings: Settings, month: str, format: str) -> str:
    """The month's issue for pasting into a blog post (`html` or `markdown`)."""
    issue = issue_service.current(store, settings, month)
    return export_issue(issue, renderer(settings), format)


def import_past(store: Store, settings: Settings, text: str, month: str) -> Issue:
    """A past roundup (HTML or text) as the month's sent issue in the archive; its links
    to articles cbewatch knows are tied to their items."""
    month = issue_service.checked_month(month)
    if store.issues.latest(month) is not None:
        raise IssueError(f"the {month} issue exists already; import only into a new month")
    issue = import_roundup(text, month, settings.newsletter.title)
    keys = canonical_urls(issue)
    known = store.items.ids_by_canonical_url(set(keys.values()))
    used = store.issues.used_items()

    def tied(entry: IssueEntry) -> IssueEntry:
        item_id = known.get(keys.get(entry.url, ""))
        if item_id is None or item_id in used:
            return entry
        return replace(entry, item_id=item_id)

    sections = tuple(replace(s, entries=tuple(map(tied, s.entries))) for s in issue.sections)
    added = store.issues.add(replace(issue, sections=sections, status="sent"))
    optimize(store)
    return added


def suggested_months(today: date | None = None) -> list[str]:
    """This month and the one before: the issues curators most likely want to open."""
    today = today or date.today()
    last = today.replace(day=1).toordinal() - 1
    previous = date.fromordinal(last)
    return [f"{today:%Y-%m}", f"{previous:%Y-%m}"]


def _month_name(month: str) -> str:
    return date(int(month[:4]), int(month[5:7]), 1).strftime("%B %Y")

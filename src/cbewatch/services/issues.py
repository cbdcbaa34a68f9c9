"""The monthly issue, as curators and operators work on it: open the month's draft (made
from the month's accepted items the first time), edit it (one rule set for the editor
and the command line, with the queue's conflict rule), carry earlier items over, approve,
and revise an approved issue as a new draft revision.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ..config import Settings
from ..errors import IssueConflict, IssueError
from ..model.times import to_iso, utc_now
from ..model.types import Issue
from ..newsletter import assemble, edits
from ..store import Store

MONTH = re.compile(r"^\d{4}-(0[1-9]|1[0-2])$")
ACTIONS = (
    "text", "blurb", "move_entry", "remove_entry", "add_section", "rename_section",
    "move_section", "remove_section", "carry_over", "approve",
)  # fmt: skip


def checked_month(month: str) -> str:
    if not MONTH.match(month or ""):
        raise IssueError(f"{month!r} is not a month like 2026-11")
    return month


def current(store: Store, settings: Settings, month: str) -> Issue:
    """The month's newest revision; when there is none yet, the draft it would start as
    (not stored: reading never writes)."""
    return store.issues.latest(checked_month(month)) or _first_draft(store, settings, month)


def open_draft(store: Store, settings: Settings, month: str) -> Issue:
    """The month's newest revision, the first draft stored when there is none."""
    latest = store.issues.latest(checked_month(month))
    if latest is not None:
        return latest
    return store.issues.add(_first_draft(store, settings, month))


def _first_draft(store: Store, settings: Settings, month: str) -> Issue:
    newsletter = settings.newsletter
    return assemble.new_draft(
        month,
        newsletter.title,
        [t.name for t in settings.topics],
        store.items.find(status="accepted"),
        store.issues.used_items(except_month=month),
        author=newsletter.author,
        closing=newsletter.closing,
    )


def edit(
    store: Store,
    settings: Settings,
    month: str,
    version: int | None,
    change: Callable[[Issue], Issue],
) -> Issue:
    """Apply `change` to the month's issue as the curator saw it (`version` of its newest
    revision; None: as it is). An approved or sent revision stays as it was: the change
    goes to a new draft revision made from it."""
    latest = open_draft(store, settings, month)
    if version is not None and latest.version != version:
        raise IssueConflict(latest)
    if latest.status != "draft":
        latest = store.issues.add(edits.next_revision(latest))
        version = latest.version
    return store.issues.save(change(latest), version)


def act(
    store: Store, settings: Settings, month: str, version: int | None, form: Mapping[str, str]
) -> Issue:
    """One of the editor's ACTIONS, from its form fields; IssueError in a sentence for
    the curator when it is wrong."""
    action = form.get("action", "")
    if action == "carry_over":
        return carry_over(store, settings, month, version)
    change = _change(action, form)
    return edit(store, settings, month, version, change)


def _change(action: str, form: Mapping[str, str]) -> Callable[[Issue], Issue]:
    get = form.get
    if action == "text":
        return lambda i: edits.set_text(i, get("field", ""), get("value", ""))
    if action == "blurb":
        return lambda i: edits.set_blurb(i, get("url", ""), get("blurb", ""))
    if action == "move_entry":
        to = _position(get("to", ""))
        return lambda i: edits.move_entry(i, get("url", ""), get("section", ""), to)
    if action == "remove_entry":
        return lambda i: edits.remove_entry(i, get("url", ""))
    if action == "add_section":
        return lambda i: edits.add_section(i, get("name", ""))
    if action == "rename_section":
        return lambda i: edits.rename_section(i, get("section", ""), get("name", ""))
    if action == "move_section":
        to = _position(get("to", ""))
        return lambda i: edits.move_section(i, get("section", ""), to)
    if action == "remove_section":
        return lambda i: edits.remove_section(i, get("section", ""))
    if action == "approve":
        return _approve_now
    raise IssueError(f"unknown action; use one of {', '.join(ACTIONS)}")


def _position(text: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise IssueError(f"{text!r} is not a position") from None


def approve(store: Store, settings: Settings, month: str, version: int | None = None) -> Issue:
    """Approve the month's draft: frozen from now on (editing it makes a new revision)."""
    latest = open_draft(store, settings, month)
    if latest.status != "draft" and version is None:
        raise IssueError(f"the {month} issue is {latest.status} already")
    return edit(store, settings, month, version, _approve_now)


def _approve_now(issue: Issue) -> Issue:
    return edits.approve(issue, to_iso(utc_now()) or "")


def carry_over(store: Store, settings: Settings, month: str, version: int | None = None) -> Issue:
    """Add the accepted items of earlier months that no issue has used to the month's
    draft, each in its topic's section."""
    used = store.issues.used_items()
    earlier = assemble.carry_over_candidates(
        checked_month(month), store.items.find(status="accepted"), used
    )
    return edit(store, settings, month, version, lambda i: assemble.add_items(i, earlier))


def carry_over_count(store: Store, month: str) -> int:
    """How many earlier accepted items carry-over would add now."""
    used = store.issues.used_items()
    items = store.items.find(status="accepted")
    return len(assemble.carry_over_candidates(checked_month(month), items, used))


@dataclass(frozen=True)
class MonthRow:
    month: str
    status: str
    revision: int


def months(store: Store) -> list[MonthRow]:
    """Every month that has an issue, newest first, with its newest revision's status."""
    return [MonthRow(*row) for row in store.issues.months()]


def published(store: Store) -> list[Issue]:
    """What the public archive shows: each month's newest approved or sent revision."""
    return store.issues.published()


def published_issue(store: Store, month: str) -> Issue | None:
    found = store.issues.published(checked_month(month))
    return found[0] if found else None

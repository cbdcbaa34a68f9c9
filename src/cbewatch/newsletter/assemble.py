"""Which items go in a month's issue, as pure functions: the accepted items of the month
(by publication date, else first seen) that no other issue has, each in its topic's
section in the config's order; accepted items of earlier months never used are offered
as carry-over. An item is in one issue at most.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from ..model.types import Issue, IssueEntry, IssueSection, Item

OTHER_SECTION = "Other Resources"  # accepted items whose topic is not one of the sections


def month_of(item: Item) -> str:
    """The month an item belongs to: its publication date's, else when it was first seen."""
    return (item.published or item.first_seen)[:7]


def entry_for(item: Item) -> IssueEntry:
    """An accepted item as an issue entry: the curator's blurb, else its draft, marked as
    a placeholder until a curator saves a blurb (the lint flags it)."""
    title = item.title or item.url
    if item.blurb and item.blurb.strip():
        return IssueEntry(item.url, title, item.source, item.blurb.strip(), item.id)
    return IssueEntry(item.url, title, item.source, item.blurb_draft, item.id, True)


def new_draft(
    month: str,
    title: str,
    topics: Sequence[str],
    accepted: Iterable[Item],
    used: set[int],
    author: str = "",
    closing: str = "",
) -> Issue:
    """The first draft of `month`: the config's topics as sections in config order, and
    the month's accepted items that no other issue has, each in its topic's section."""
    issue = Issue(
        month=month,
        title=title,
        author=author,
        closing=closing,
        sections=tuple(IssueSection(name) for name in topics),
    )
    mine = [i for i in accepted if month_of(i) == month and i.id not in used]
    return add_items(issue, mine)


def carry_over_candidates(month: str, accepted: Iterable[Item], used: set[int]) -> list[Item]:
    """Accepted items of months before `month` that no issue has used."""
    return [i for i in accepted if month_of(i) < month and i.id not in used]


def add_items(issue: Issue, items: Iterable[Item]) -> Issue:
    """`issue` with `items` added at the end of their topic's section (oldest first); an
    item without one of the issue's sections goes to OTHER_SECTION, made when needed.
    Items already in the issue are left where they are."""
    present = issue.item_ids
    names = [section.name for section in issue.sections]
    added: dict[str, list[IssueEntry]] = {}
    for item in sorted(items, key=lambda i: (i.published or i.first_seen, i.id)):
        if item.id in present:
            continue
        name = item.topic if item.topic in names else OTHER_SECTION
        added.setdefault(name, []).append(entry_for(item))
    sections = [
        replace(s, entries=s.entries + tuple(added.pop(s.name, []))) for s in issue.sections
    ]
    if OTHER_SECTION in added:
        sections.append(IssueSection(OTHER_SECTION, tuple(added.pop(OTHER_SECTION))))
    return replace(issue, sections=tuple(sections))

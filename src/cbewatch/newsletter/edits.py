"""What curators may change in a draft, as pure functions: each takes an issue and
returns the changed issue, or raises IssueError with one plain sentence. Sections are
named, entries are found by their URL; the service layer keeps the version check.
"""

from __future__ import annotations

from dataclasses import replace

from ..errors import IssueError
from ..model.types import Issue, IssueEntry, IssueSection

TEXT_FIELDS = ("title", "intro", "closing", "author")
MAX_TEXT = {"title": 200, "intro": 4000, "closing": 2000, "author": 200}
MAX_BLURB = 1000
MAX_SECTION_NAME = 120


def set_text(issue: Issue, field: str, value: str) -> Issue:
    """The issue's title, intro, closing or author line."""
    if field not in TEXT_FIELDS:
        raise IssueError(f"{field!r} is not one of {', '.join(TEXT_FIELDS)}")
    value = value.strip()
    if len(value) > MAX_TEXT[field]:
        raise IssueError(f"the {field} has at most {MAX_TEXT[field]} characters")
    if field == "title" and not value:
        raise IssueError("an issue needs a title")
    return replace(_draft(issue), **{field: value})


def add_section(issue: Issue, name: str) -> Issue:
    """A new, empty section at the end (for this issue only)."""
    name = _section_name(name)
    if name in _names(issue):
        raise IssueError(f"there is a section {name!r} already")
    return replace(_draft(issue), sections=(*issue.sections, IssueSection(name)))


def rename_section(issue: Issue, old: str, new: str) -> Issue:
    index = _section_index(issue, old)
    new = _section_name(new)
    if new != old and new in _names(issue):
        raise IssueError(f"there is a section {new!r} already")
    sections = list(issue.sections)
    sections[index] = replace(sections[index], name=new)
    return replace(_draft(issue), sections=tuple(sections))


def move_section(issue: Issue, name: str, to: int) -> Issue:
    """The section `name` moved to position `to` (0 is first; past the end is last)."""
    sections = list(issue.sections)
    section = sections.pop(_section_index(issue, name))
    sections.insert(max(0, min(to, len(sections))), section)
    return replace(_draft(issue), sections=tuple(sections))


def remove_section(issue: Issue, name: str) -> Issue:
    """The section gone, and its items with it (back to the accepted items no issue has)."""
    index = _section_index(issue, name)
    sections = issue.sections[:index] + issue.sections[index + 1 :]
    return replace(_draft(issue), sections=sections)


def move_entry(issue: Issue, url: str, section: str, to: int) -> Issue:
    """The entry `url` moved to position `to` of `section` (0 is first; past the end
    is last); the same section or another."""
    entry = find_entry(issue, url)
    target = _section_index(issue, section)
    sections = [_without(s, url) for s in issue.sections]
    entries = list(sections[target].entries)
    entries.insert(max(0, min(to, len(entries))), entry)
    sections[target] = replace(sections[target], entries=tuple(entries))
    return replace(_draft(issue), sections=tuple(sections))


def remove_entry(issue: Issue, url: str) -> Issue:
    """The entry gone from the issue (its item goes back to the accepted pool)."""
    find_entry(issue, url)
    return replace(_draft(issue), sections=tuple(_without(s, url) for s in issue.sections))


def set_blurb(issue: Issue, url: str, blurb: str) -> Issue:
    """The curator's blurb for an entry (Markdown-light: links and emphasis)."""
    blurb = " ".join(blurb.split())
    if not blurb:
        raise IssueError("a blurb cannot be empty; remove the item instead")
    if len(blurb) > MAX_BLURB:
        raise IssueError(f"a blurb has at most {MAX_BLURB} characters")
    entry = replace(find_entry(issue, url), blurb=blurb, placeholder=False)
    return _replace_entry(_draft(issue), entry)


def approve(issue: Issue, at: str) -> Issue:
    """The draft approved: frozen from now on."""
    return replace(_draft(issue), status="approved", approved_at=at)


def next_revision(issue: Issue) -> Issue:
    """A new draft from an approved (or sent) revision, which stays as it was."""
    if issue.status == "draft":
        return issue
    return replace(issue, status="draft", revision=issue.revision + 1, approved_at=None,
                   sent_at=None)  # fmt: skip


def find_entry(issue: Issue, url: str) -> IssueEntry:
    for entry in issue.entries:
        if entry.url == url:
            return entry
    raise IssueError(f"the issue has no item {url}")


def _draft(issue: Issue) -> Issue:
    if issue.status != "draft":
        raise IssueError(
            f"the {issue.month} issue (revision {issue.revision}) is {issue.status}: "
            "edit a new revision instead"
        )
    return issue


def _names(issue: Issue) -> list[str]:
    return [s.name for s in issue.sections]


def _section_index(issue: Issue, name: str) -> int:
    try:
        return _names(issue).index(name)
    except ValueError:
        raise IssueError(f"the issue has no section {name!r}") from None


def _section_name(name: str) -> str:
    name = " ".join(name.split())
    if not name:
        raise IssueError("a section needs a name")
    if len(name) > MAX_SECTION_NAME:
        raise IssueError(f"a section name has at most {MAX_SECTION_NAME} characters")
    return name


def _without(section: IssueSection, url: str) -> IssueSection:
    return replace(section, entries=tuple(e for e in section.entries if e.url != url))


def _replace_entry(issue: Issue, entry: IssueEntry) -> Issue:
    sections = tuple(
        replace(s, entries=tuple(entry if e.url == entry.url else e for e in s.entries))
        for s in issue.sections
    )
    return replace(issue, sections=sections)

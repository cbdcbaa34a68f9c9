"""An issue for pasting into a blog post: `html` (the web page's content block, without
the page around it) or `markdown` (headings, bullets, Markdown links). Pure. The Markdown
is escaped so that another engine, even one that allows raw HTML, shows text as text.
"""

from __future__ import annotations

from ..errors import IssueError
from ..model.types import Issue, IssueEntry
from . import blurbs
from .render import Renderer, month_name

FORMATS = ("html", "markdown")


def export(issue: Issue, renderer: Renderer, format: str) -> str:
    """The issue as `format` ("html" or "markdown"), ending with one newline."""
    if format == "html":
        return renderer.issue_body(issue) + "\n"
    if format == "markdown":
        return to_markdown(issue)
    raise IssueError(f"{format!r} is not an export format: use {' or '.join(FORMATS)}")


def to_markdown(issue: Issue) -> str:
    """Title, month and author, intro, a `##` heading per non-empty section with a bullet
    per entry, closing. Entries follow the templates' rule: a blurb that does not link
    its entry's URL is followed by "Read: [title](url)"."""
    byline = month_name(issue.month) + (f" · {issue.author}" if issue.author else "")
    parts = [f"# {_line(issue.title)}", f"*{_line(byline)}*"]
    if issue.intro.strip():
        parts.append(blurbs.to_markdown(issue.intro))
    for section in issue.sections:
        if section.entries:
            parts.append(f"## {_line(section.name)}")
            parts.append("\n".join(f"- {_entry(e)}" for e in section.entries))
    if issue.closing.strip():
        parts.append(blurbs.to_markdown(issue.closing))
    return "\n\n".join(parts) + "\n"


def _entry(entry: IssueEntry) -> str:
    url = entry.url if blurbs.valid_link(entry.url) else ""
    own = blurbs.normalize_link(url) if url else ""
    title = _line(entry.title) or blurbs.escape_markdown(url)
    link = f"[{title}]({_destination(own)})" if own else title
    text = " ".join(blurbs.to_markdown(entry.blurb).split())
    if not text:
        return f"{link} ({_line(entry.organization)})"
    if own and own not in blurbs.links_of(entry.blurb):
        return f"{text} Read: {link}"
    return text


def _line(text: str) -> str:
    return blurbs.escape_markdown(" ".join(text.split()))


def _destination(href: str) -> str:
    return href.replace("(", "%28").replace(")", "%29")

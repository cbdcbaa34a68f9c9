"""What the source parsers return: plain values, already sanitized at the border."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True)
class Entry:
    """One article link found in a feed, list page or sitemap.

    `title` and `summary_text` are plain text; `summary` is HTML already cleaned by
    `cbewatch.sanitize` (nothing executable survives); `url` is absolute http(s).
    """

    url: str
    title: str = ""
    summary: str = ""
    summary_text: str = ""
    published: datetime | None = None  # timezone-aware UTC, None when the source gives none
    author: str | None = None


@dataclass(frozen=True)
class ParsedPage:
    """What one fetched body yields.

    `next_url`: the next page of the same listing (RFC 5005 rel=next, a "Next" link).
    `children`: further documents to read (a sitemap index's sitemaps).
    `problem`: one plain sentence when the body could only be read in part.
    """

    entries: list[Entry] = field(default_factory=list)
    next_url: str | None = None
    children: list[str] = field(default_factory=list)
    problem: str | None = None

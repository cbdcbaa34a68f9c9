"""What the source parsers return: plain values, already sanitized at the border."""

from __future__ import annotations

from dataclasses import dataclass, field

from ..model.types import Entry


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

"""The plain records that stages, store and faces all pass around: an entry a source
listed, a source's polling state, an item as stored, a curator's change and its audit
row, the queue's filters, a monthly issue. Frozen values with no behaviour beyond their
own shape.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any, TypedDict

from . import drafts

ITEM_STATUSES = ("new", "accepted", "rejected", "duplicate")
DECISION_STATUSES = ("new", "accepted", "rejected")  # a duplicate is made by dedup only
DECISION_FIELDS = ("status", "topic", "blurb")

# The fields `items --json` prints, in order (the design's stable list).
ITEM_FIELDS = (
    "id",
    "url",
    "canonical_url",
    "title",
    "summary",
    "summary_text",
    "text",
    "html",
    "published",
    "first_seen",
    "author",
    "source",
    "language",
    "image",
    "extracted_from",
    "status",
    "topic",
    "suggested_topic",
    "score",
    "why",
    "blurb",
    "kind",
    "blurb_draft",
    "duplicate_of",
    "also_at",
)


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
class SourceState:
    """A source's polling state and health, as stored."""

    name: str
    url: str
    kind: str
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    last_polled: datetime | None = None
    last_success: datetime | None = None
    consecutive_failures: int = 0
    last_error: str | None = None
    last_status: int | None = None
    next_poll: datetime | None = None
    retired_at: datetime | None = None

    @property
    def retired(self) -> bool:
        return self.retired_at is not None


@dataclass(frozen=True)
class Sighting:
    """A place an item was seen: a URL, and the source that listed it."""

    url: str
    source: str


@dataclass(frozen=True)
class Item:
    """One article as stored, with every other place it was seen (`also_at`).

    Fetched text is already sanitized (`html`, `summary`) or plain (`text`, `title`,
    `summary_text`); times are ISO 8601 UTC text. `version` goes up with every change a
    curator (or dedup) makes, so a decision on a stale copy is refused.
    """

    id: int
    url: str
    canonical_url: str
    source: str
    status: str
    first_seen: str
    title: str | None = None
    summary: str | None = None
    summary_text: str | None = None
    text: str | None = None
    html: str | None = None
    published: str | None = None
    author: str | None = None
    language: str | None = None
    image: str | None = None
    extracted_from: str | None = None
    topic: str | None = None
    suggested_topic: str | None = None
    score: float | None = None
    why: str | None = None
    blurb: str | None = None
    duplicate_of: int | None = None
    also_at: tuple[Sighting, ...] = ()
    version: int = 1

    @property
    def kind(self) -> str:
        """report, brief, toolkit, guide, webinar, podcast, case study, article, blog post."""
        lead = (self.summary_text or self.text or "")[: drafts.KIND_CHARS]
        return drafts.kind_of(self.title or "", self.url, lead)

    @property
    def blurb_draft(self) -> str:
        """A blurb in the newsletter's voice to start from (what the curator writes wins)."""
        lead = (self.summary_text or self.text or "")[: drafts.LEAD_CHARS]  # all it reads
        return drafts.blurb_draft(self.kind, self.source, self.title or "", lead)

    def to_json(self) -> dict[str, Any]:
        """The design's stable JSON object (`items --json`): ITEM_FIELDS, in order."""
        values = {name: getattr(self, name) for name in ITEM_FIELDS}
        values["also_at"] = [asdict(place) for place in self.also_at]
        return values


class Changes(TypedDict, total=False):
    """A curator's change to an item: any of these fields, nothing else."""

    status: str
    topic: str | None
    blurb: str | None


@dataclass(frozen=True)
class AuditEntry:
    """One change to an item: who, when, how (`action`), and the changed fields' values
    before and after."""

    id: int
    item_id: int
    at: str
    who: str
    action: str
    before: dict[str, Any] = field(default_factory=dict)
    after: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class QueueQuery:
    """The queue's filters; empty values filter nothing."""

    status: str | None = "new"
    source: str | None = None
    topic: str | None = None
    month: str | None = None  # YYYY-MM of the publication date
    search: str | None = None  # free text over title, summary and extracted text


@dataclass(frozen=True)
class QueueCursor:
    """Where the next queue page starts: the last row's sort key."""

    rank: float
    published: str
    id: int

    def token(self) -> str:
        return f"{self.rank!r}~{self.published}~{self.id}"

    @classmethod
    def from_token(cls, token: str | None) -> QueueCursor | None:
        """The cursor a token names; None for anything else (garbage, a rank that is not
        a finite number, an id beyond SQLite's integers, a date that is no date)."""
        try:
            rank, published, item_id = (token or "").split("~")
            cursor = cls(float(rank), published, int(item_id))
        except ValueError:
            return None
        sane = (
            math.isfinite(cursor.rank)
            and 0 < cursor.id <= 2**63 - 1
            and len(published) <= 32
            and published.isprintable()
        )
        return cursor if sane else None


ISSUE_STATUSES = ("draft", "approved", "sent")


@dataclass(frozen=True)
class IssueEntry:
    """One piece in an issue: what its blurb links to and names, and the blurb itself
    (Markdown-light: links and emphasis). `url` identifies the entry within its issue."""

    url: str
    title: str
    organization: str
    blurb: str = ""
    item_id: int | None = None  # the item it came from; None for an imported, unknown link
    placeholder: bool = False  # the blurb is the generated stand-in nobody has written yet


@dataclass(frozen=True)
class IssueSection:
    name: str
    entries: tuple[IssueEntry, ...] = ()


@dataclass(frozen=True)
class Issue:
    """One revision of a month's issue. A draft is edited; an approved revision is frozen
    (editing it again starts the next revision as a draft); a sent one is history.
    `version` moves with every change, so an edit made on a stale copy is refused."""

    month: str  # YYYY-MM
    title: str
    intro: str = ""
    closing: str = ""
    author: str = ""
    sections: tuple[IssueSection, ...] = ()
    status: str = "draft"
    revision: int = 1
    version: int = 1
    updated: str | None = None
    approved_at: str | None = None
    sent_at: str | None = None

    @property
    def entries(self) -> list[IssueEntry]:
        return [entry for section in self.sections for entry in section.entries]

    @property
    def item_ids(self) -> set[int]:
        return {e.item_id for e in self.entries if e.item_id is not None}


SUBSCRIBER_STATUSES = ("pending", "confirmed", "unsubscribed", "bounced")
DELIVERY_STATUSES = ("queued", "sending", "sent", "failed")


@dataclass(frozen=True)
class Subscriber:
    """One address on the list: `email` normalized (lower-case domain, IDN as Unicode),
    `source` where its consent came from (the archive's form, an import, the CLI)."""

    id: int
    email: str
    status: str
    created: str
    name: str = ""
    confirmed: str | None = None
    unsubscribed: str | None = None
    source: str = ""
    bounces: int = 0


@dataclass(frozen=True)
class Delivery:
    """One email of one issue to one subscriber, in the ledger: `queued` → `sending`
    (written before the SMTP DATA) → `sent` (with the server's reply) or `failed` (with
    the reason). A row found in `sending` by a later run is in doubt: re-sent at most once."""

    month: str
    subscriber_id: int
    revision: int
    email: str
    status: str
    attempts: int = 0
    in_doubt: bool = False
    reply: str | None = None
    error: str | None = None
    updated: str | None = None


@dataclass(frozen=True)
class Curator:
    """A curator's account as others see it: a name and when it was made."""

    name: str
    created: str

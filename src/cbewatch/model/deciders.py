"""The rules for how stored items change, as pure functions over plain values: which of
several links to one article is kept, which URL an item shows, how a page's title, author
and date merge with what the source said, when a page's canonical URL becomes the item's
key, the snippet an item shows, and what merging duplicates does to each item. The store
reads, asks these, and writes what they return, inside one transaction; they never touch
the database.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from urllib.parse import urlsplit

from ..urls import canonical_url, url_noise
from .sentences import sentence_ends
from .times import to_iso
from .types import Entry, Sighting

# ---------------------------------------------------------------------------------------
# A poll: entries seen again.


def plainest(entries: Sequence[Entry]) -> Entry:
    """Of several entries for one article (one canonical URL), the one whose URL carries
    the least noise (tracking parameters, AMP); the first of equals wins."""
    if len(entries) == 1:
        return entries[0]
    return min(entries, key=lambda entry: url_noise(entry.url))


def published_or_seen(published: datetime | None, seen_at: str) -> str:
    """A new item's publication date: the source's, else the moment it was first seen
    (`page_facts` reads "published == first_seen" as "no date known yet")."""
    return to_iso(published) or seen_at


def shown_place(shown_url: str, seen: Sighting) -> Sighting | None:
    """The URL and source an item should show now that it was seen at `seen`: `seen`
    when its URL is plainer than the one shown (a republisher's tracking link was seen
    first), else None (keep what is shown)."""
    return seen if url_noise(seen.url) < url_noise(shown_url) else None


# ---------------------------------------------------------------------------------------
# A page read: what the page says beside what the source said.


@dataclass(frozen=True)
class PageFacts:
    """An item's title, author and date: as stored, or as a page gave them."""

    title: str | None = None
    author: str | None = None
    published: str | None = None


def page_facts(
    stored: PageFacts, first_seen: str, read: PageFacts, replace_title: bool = False
) -> PageFacts:
    """What an item keeps after its page is read. The source's title, author and date
    win; the page's fill what the source left out: a title it lacked (or only made up
    from the URL: `replace_title`), an author, a date (the item's date is its first-seen
    time when the source gave none)."""
    title = stored.title
    if replace_title or not stored.title:
        title = read.title if read.title is not None else stored.title
    author = stored.author if stored.author is not None else read.author
    published = stored.published
    if stored.published == first_seen and read.published is not None:
        published = read.published
    return PageFacts(title, author, published)


def adopted_key(item_url: str, page_canonical: str | None) -> str | None:
    """The page's rel=canonical as the item's key, when it stays on the item's site
    (another site's canonical is kept as metadata only)."""
    if not page_canonical or _site(page_canonical) != _site(item_url):
        return None
    return canonical_url(page_canonical)


def takes_key(proposed: str | None, holder: int | None) -> bool:
    """Whether an item takes the key `adopted_key` proposed: only when no item holds it
    yet. Then the text decides: sites whose template names one page (or the home page)
    as every article's canonical are common, and must not fold a site into one item."""
    return proposed is not None and holder is None


def _site(url: str) -> str:
    parts = urlsplit(url)
    host = (parts.hostname or "").lower().rstrip(".").removeprefix("www.")
    return f"{host}:{parts.port}" if parts.port else host


SNIPPET_CHARS = 300


def snippet(feed_text: str | None, description: str | None, text: str | None) -> str:
    """The plain text an item shows under its title: the feed's summary, else the page's
    description, else the first one or two whole sentences of the page's text (at most
    SNIPPET_CHARS; a longer first sentence is cut on a word, with "…"). All three are
    plain text already (sanitized where they were read); "" when there is none."""
    for given in (feed_text, description):
        if given and given.strip():
            return given.strip()
    return first_sentences(text or "")


def first_sentences(text: str, limit: int = SNIPPET_CHARS) -> str:
    lines = [" ".join(line.split()) for line in text.splitlines()]
    # Start at the first line that reads as prose: headings and labels are not a summary.
    prose = next((i for i, line in enumerate(lines) if _is_prose(line)), None)
    if prose is None:
        return _cut(" ".join(line for line in lines if line), limit)
    flowing = " ".join(line for line in lines[prose:] if line)
    ends = [*sentence_ends(flowing), len(flowing)]
    chosen = [end for end in ends[:2] if end <= limit]
    return flowing[: chosen[-1]].strip() if chosen else _cut(flowing, limit)


def _is_prose(line: str) -> bool:
    return len(line.split()) >= 8 or (len(line.split()) >= 3 and line.endswith((".", "!", "?")))


def _cut(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    return text[: limit - 1].rsplit(" ", 1)[0].rstrip(" ,;:.-–—") + "…"


# ---------------------------------------------------------------------------------------
# Dedup: merging copies of one story.


@dataclass(frozen=True)
class ClusterState:
    """What merging touches of an item."""

    id: int
    status: str
    duplicate_of: int | None
    version: int


def merged_states(
    members: Mapping[int, ClusterState], merges: Iterable[tuple[int, int]]
) -> dict[int, ClusterState]:
    """The states that change when each (duplicate, primary) pair becomes one story, in
    order. `members` must hold every item of the pairs and every copy of them.

    The duplicate becomes a copy of the primary (its version moves too, so a curator who
    has the copy open cannot accept it unawares); its own copies follow it to the
    primary; a primary that was itself a copy becomes an item of its own again.
    """
    states = dict(members)
    for duplicate, primary in merges:
        was = states[duplicate]
        states[duplicate] = replace(
            was, status="duplicate", duplicate_of=primary, version=was.version + 1
        )
        for item_id, state in states.items():
            if state.duplicate_of == duplicate:
                states[item_id] = replace(state, duplicate_of=primary)
        if states[primary].status == "duplicate":
            states[primary] = replace(states[primary], status="new", duplicate_of=None)
    return {i: s for i, s in states.items() if s != members[i]}

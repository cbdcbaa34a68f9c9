"""Poll one source: fetch its bytes through the one HTTP client, read them by kind,
follow "next" pages on a first poll, and filter. Returns plain values; never raises
for a bad source (the outcome says what went wrong) and never writes to the store.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..config import Source
from ..errors import BlockedURL, FetchError, HTTPStatusError, ParseError
from ..http import Fetched, HttpClient, check_url
from ..model.types import Entry, SourceState
from ..workers import WorkerCrashed, WorkerPool, WorkerTimeout
from .feeds import parse_feed
from .health import Outcome
from .model import ParsedPage
from .pages import parse_list_page
from .sitemaps import parse_sitemap

ACCEPT = {
    "feed": "application/rss+xml, application/atom+xml, application/feed+json, "
    "application/xml;q=0.9, text/xml;q=0.9, application/json;q=0.8, */*;q=0.5",
    "page": "text/html, application/xhtml+xml;q=0.9, */*;q=0.5",
    "sitemap": "application/xml, text/xml;q=0.9, */*;q=0.5",
}
MAX_SITEMAP_CHILDREN = 10
HTTP_REASONS = {
    404: "the page is not there (HTTP 404)",
    403: "the server refused access (HTTP 403)",
    410: "the server says it is gone for good (HTTP 410); remove it or give its new URL",
    429: "the server asked us to slow down (HTTP 429)",
    500: "the server had an internal error (HTTP 500)",
    502: "the server's gateway failed (HTTP 502)",
    503: "the server is unavailable (HTTP 503)",
}


@dataclass(frozen=True)
class PollResult:
    name: str
    outcome: Outcome
    entries: list[Entry] = field(default_factory=list)
    problem: str | None = None  # read in part: a plain sentence, recorded but not a failure


Reader = Callable[[Source, Fetched], Awaitable[ParsedPage]]


async def read_here(source: Source, fetched: Fetched) -> ParsedPage:
    """Read a body in this process (the pipeline passes a process pool's reader instead)."""
    return read_body(source, fetched)


def pool_reader(pool: WorkerPool) -> Reader:
    """A Reader that runs `read_body` in `pool`'s workers. A body that keeps its worker
    past the pool's deadline, or crashes it, is a ParseError like any unreadable body."""

    async def read(source: Source, fetched: Fetched) -> ParsedPage:
        try:
            return await pool.run(read_body, source, fetched)
        except WorkerTimeout:
            reason = f"reading it took longer than {pool.deadline:g} s"
            raise ParseError(fetched.url, reason) from None
        except WorkerCrashed:
            raise ParseError(fetched.url, "reading it crashed the parser") from None

    return read


async def poll_source(
    client: HttpClient,
    source: Source,
    state: SourceState,
    allow_hosts: tuple[str, ...],
    read: Reader = read_here,
) -> PollResult:
    """Fetch and read one source; a failure becomes the result's outcome."""
    try:
        return await _poll(client, source, state, allow_hosts, read)
    except Exception as exc:  # a bug met by odd input must cost one source, not the run
        error = f"Could not be read: unexpected {type(exc).__name__} ({exc})."
        return PollResult(source.name, Outcome("failed", error=error))


async def _poll(
    client: HttpClient,
    source: Source,
    state: SourceState,
    allow_hosts: tuple[str, ...],
    read: Reader,
) -> PollResult:
    try:
        fetched = await client.get(
            source.url,
            etag=state.etag,
            last_modified=state.last_modified,
            accept=ACCEPT[source.kind],
        )
    except FetchError as exc:
        return PollResult(source.name, failure_outcome(exc))
    if fetched.not_modified:
        return PollResult(source.name, Outcome("not_modified", status=304))
    body_hash = hashlib.sha256(fetched.body).hexdigest()
    validators = {
        "status": fetched.status,
        "etag": fetched.etag,
        "last_modified": fetched.last_modified,
        "body_hash": body_hash,
    }
    if body_hash == state.body_hash:  # a server without validators sent the same bytes
        return PollResult(source.name, Outcome("not_modified", **validators))
    try:
        first = await read(source, fetched)
    except ParseError as exc:
        error = f"{_capital(exc.reason)} ({fetched.url})."
        return PollResult(source.name, Outcome("failed", error=error, status=fetched.status))
    pages, problem = await _follow(client, source, state, first, read)
    entries = select_entries(source, pages, allow_hosts)
    problem = problem or next((page.problem for page in pages if page.problem), None)
    return PollResult(source.name, Outcome("ok", **validators), entries, problem)


def read_body(source: Source, fetched: Fetched) -> ParsedPage:
    """Parse a fetched body as the source's kind; ParseError if it is not one."""
    if source.kind == "page":
        assert source.links is not None  # config guarantees a selector for pages
        return parse_list_page(fetched.body, fetched.url, source.links, fetched.charset)
    if source.kind == "sitemap":
        now = datetime.now().astimezone()
        return parse_sitemap(fetched.body, fetched.url, now, source.max_age)
    return parse_feed(fetched.body, fetched.url, fetched.content_type, fetched.charset)


async def _follow(
    client: HttpClient, source: Source, state: SourceState, first: ParsedPage, read: Reader
) -> tuple[list[ParsedPage], str | None]:
    """More documents to read: a sitemap index's children, and on a source's first
    poll its "next" pages (up to max_pages in all). A failing extra page ends the walk
    and is reported as a problem, keeping what was read."""
    pages = [first]
    seen = {source.url}

    async def fetch_and_read(url: str) -> ParsedPage:
        seen.add(url)
        return await read(source, await client.get(url, accept=ACCEPT[source.kind]))

    try:
        for url in first.children[:MAX_SITEMAP_CHILDREN]:
            pages.append(await fetch_and_read(url))
        next_url = first.next_url if state.last_success is None else None
        while next_url and next_url not in seen and len(pages) < source.max_pages:
            pages.append(await fetch_and_read(next_url))
            next_url = pages[-1].next_url
    except (FetchError, ParseError) as exc:
        return pages, f"Stopped reading at {exc.url}: {exc.reason}."
    return pages, None


def select_entries(
    source: Source, pages: list[ParsedPage], allow_hosts: tuple[str, ...]
) -> list[Entry]:
    """Entries that pass the source's include/exclude filters and point somewhere safe,
    each URL once, in the order found."""
    chosen: list[Entry] = []
    urls: set[str] = set()
    for page in pages:
        for entry in page.entries:
            if entry.url in urls or not _passes(source, entry) or not _safe(entry.url, allow_hosts):
                continue
            urls.add(entry.url)
            chosen.append(entry)
    return chosen


@functools.lru_cache(maxsize=256)
def _keyword_pattern(words: tuple[str, ...]) -> re.Pattern[str]:
    # A keyword matches words that start with it: "competenc" finds "competency-based".
    return re.compile(r"\b(?:" + "|".join(re.escape(w) for w in words) + ")", re.IGNORECASE)


def _passes(source: Source, entry: Entry) -> bool:
    text = f"{entry.title}\n{entry.summary_text}"
    if source.include and not _keyword_pattern(source.include).search(text):
        return False
    return not (source.exclude and _keyword_pattern(source.exclude).search(text))


def _safe(url: str, allow_hosts: tuple[str, ...]) -> bool:
    try:
        check_url(url, allow_hosts)
    except BlockedURL:
        return False
    return True


def failure_outcome(exc: FetchError) -> Outcome:
    """A fetch error as an outcome with one plain sentence."""
    if isinstance(exc, HTTPStatusError):
        reason = HTTP_REASONS.get(exc.status, f"the server answered HTTP {exc.status}")
        kind = "gone" if exc.status == 410 else "failed"
        return Outcome(
            kind, error=f"{_capital(reason)}.", status=exc.status, retry_after=exc.retry_after
        )
    return Outcome("failed", error=f"{_capital(exc.reason)} ({exc.url}).")


def _capital(text: str) -> str:
    return text[:1].upper() + text[1:]

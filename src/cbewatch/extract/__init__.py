"""Read each new item's page: fetch it through the one HTTP client, then extract the article
(trafilatura for HTML, pypdf for PDF reports) in the worker pool, beside the downloads.
An HTML article comes back as blocks (`blocks.py`): the rules one page can apply run in
the worker; the blocks a site repeats on many pages are stripped by the main process,
which counts them (`boilerplate.py`).

trafilatura and pypdf only ever get bytes we fetched: they must never fetch anything
themselves. Whatever a page holds, the run goes on: a page that cannot be had or read
falls back to the feed's own text and is recorded, never retried forever.
"""

from __future__ import annotations

import asyncio
import html
import io
import logging
import re
from collections import Counter, defaultdict, deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from itertools import chain, zip_longest
from typing import Any
from urllib.parse import urljoin, urlsplit

from ..errors import FetchError, FetchTimeout, HTTPStatusError
from ..http import Fetched, HttpClient
from ..markup import decode_markup, html_declared_charset, iso_datetime, title_from_url
from ..model.deciders import adopted_key
from ..sanitize import clean_title
from ..workers import WorkerCrashed, WorkerPool, WorkerTimeout
from .blocks import (
    Block,
    joined,
    normalized,
    split_blocks,
    with_sketch_parts,
    without_author_bio,
    without_pull_quotes,
    without_repeated_top,
)

# A block this long between a description-like paragraph and the byline is article text:
# the paragraph opened the article; a standfirst sits right above the byline.
STANDFIRST_GAP_WORDS = 8
MAX_ATTEMPTS = 3  # a page that keeps timing out or failing with 5xx is given up after this
RETRY_FIRST = timedelta(minutes=10)
RETRY_MAX = timedelta(days=1)
ACCEPT = "text/html, application/xhtml+xml;q=0.9, application/pdf;q=0.8, */*;q=0.1"
HTML_TYPES = ("text/html", "application/xhtml+xml")
PDF_TYPES = ("application/pdf", "application/x-pdf")
MAX_PDF_PAGES = 80
MAX_TEXT_CHARS = 300_000  # enough for a long report; the rest is not read by curators
EXTRACT_TIMEOUT = 60.0  # seconds of a worker for one page; a normal page takes 0.01–0.5
_TRANSIENT_STATUSES = frozenset({408, 425, 429, 500, 502, 503, 504})
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"

# trafilatura and pypdf log every odd page they meet; a run reports per item instead.
for _noisy in ("trafilatura", "htmldate", "courlan", "pypdf"):
    logging.getLogger(_noisy).setLevel(logging.CRITICAL)


@dataclass(frozen=True)
class PageJob:
    """An item waiting for its page: what the feed gave, for the fallback."""

    item_id: int
    url: str
    title: str = ""
    summary: str = ""
    summary_text: str = ""
    attempts: int = 0
    source: str = ""  # whose site's boilerplate the page shares


@dataclass(frozen=True)
class Article:
    """What one page or PDF yields; `text` is plain, `html` sanitized."""

    text: str
    html: str
    title: str | None = None
    author: str | None = None
    published: str | None = None  # UTC ISO 8601
    description: str | None = None
    site_name: str | None = None
    image: str | None = None
    language: str | None = None
    page_canonical: str | None = None  # the page's rel=canonical, absolute
    blocks: tuple[Block, ...] = ()  # an HTML article's, for the site's boilerplate


@dataclass(frozen=True)
class PageResult:
    """The outcome for one item, as store.record_extractions takes it."""

    id: int
    extracted_from: str  # page | feed | none
    text: str
    html: str
    final: bool = True  # False: try again on a later run, not before `read_after`
    error: str | None = None
    read_after: str | None = None  # UTC ISO 8601, set by the run for a result not final
    article: Article | None = None
    canonical_url: str | None = None  # adopted from the page when it stays on the site
    replace_title: bool = False  # the source's title was only made up from the URL
    summary_text: str | None = None  # the snippet, once chosen; None keeps the stored one

    def row(self) -> dict[str, Any]:
        """The flat dict store.record_extractions takes. Shallow: every field but the
        article's blocks (left out) is a plain value, and `asdict` would deep-copy them."""
        row = _fields(self.article, skip="blocks") if self.article else {}
        row.update(_fields(self, skip="article"))
        return row


def _fields(record: Any, skip: str) -> dict[str, Any]:
    return {f.name: getattr(record, f.name) for f in fields(record) if f.name != skip}


# ---------------------------------------------------------------------------------------
# In a worker process: bytes in, an Article (or None when there is no article) out.


def read_page(url: str, content_type: str | None, charset: str | None, body: bytes) -> Article:
    """Extract the article from a fetched HTML page or PDF. Raises ValueError, with a
    plain reason, when there is nothing to read; any other failure of the parsers on a
    hostile body is turned into that too."""
    try:
        if is_pdf(url, content_type, body):
            return _read_pdf(body)
        return _read_html(url, charset, body)
    except ValueError:
        raise
    except Exception as exc:  # hostile input may break a parser in any way: report, go on
        raise ValueError(f"the page could not be read ({type(exc).__name__})") from None


def is_pdf(url: str, content_type: str | None, body: bytes = b"") -> bool:
    if content_type in PDF_TYPES or body.startswith(b"%PDF-"):
        return True
    return content_type in (None, "application/octet-stream") and urlsplit(
        url
    ).path.lower().endswith(".pdf")


def _read_html(url: str, charset: str | None, body: bytes) -> Article:
    from trafilatura import bare_extraction
    from trafilatura.htmlprocessing import convert_to_html
    from trafilatura.utils import load_html

    tree = load_html(decode_markup(body, [charset, html_declared_charset(body)]))
    if tree is None:
        raise ValueError("the page is empty")
    page_canonical = _canonical_link(tree, url)
    language = _language(tree)
    standfirst = _standfirst(tree)  # before trafilatura, which prunes the tree
    doc = bare_extraction(
        tree,
        url=url,
        with_metadata=True,
        include_comments=False,
        include_formatting=True,
        include_links=True,
        include_tables=True,
    )
    if doc is None or doc.body is None:
        raise ValueError("no article text was found on the page")
    title = clean_title(doc.title or "") or None
    author = clean_title(doc.author or "") or None
    blocks = split_blocks(convert_to_html(doc.body)[0], url)
    blocks = without_repeated_top(blocks, title, author, standfirst)
    blocks = with_sketch_parts(without_pull_quotes(without_author_bio(blocks, author)))
    text, main_html = joined(blocks)
    if not text:
        raise ValueError("no article text was found on the page")
    return Article(
        text=text,
        html=main_html,
        title=title,
        author=author,
        published=_iso_day(doc.date),
        description=clean_title(doc.description or "") or None,
        site_name=clean_title(doc.sitename or "") or None,
        image=_http_url(doc.image, url),
        language=language or (doc.language or None),
        page_canonical=page_canonical,
        blocks=tuple(blocks),
    )


def _canonical_link(tree: Any, url: str) -> str | None:
    for link in tree.iterfind(".//link[@href]"):
        rels = (link.get("rel") or "").lower().split()
        if "canonical" in rels:
            return _http_url(link.get("href"), url)
    return None


def _language(tree: Any) -> str | None:
    lang = (tree.get("lang") or tree.get(_XML_LANG) or "").strip()
    if not lang:
        for meta in tree.iterfind(".//meta[@http-equiv]"):
            if (meta.get("http-equiv") or "").lower() == "content-language":
                lang = (meta.get("content") or "").split(",")[0].strip()
    lang = lang.replace("_", "-").lower()
    return lang if re.fullmatch(r"[a-z]{2,3}(-[a-z0-9]{2,8})*", lang) else None


def _iso_day(value: str | None) -> str | None:
    moment = iso_datetime(value) if value else None
    if moment is None:
        return None
    return moment.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _http_url(value: str | None, base: str) -> str | None:
    if not value:
        return None
    target = urljoin(base, value.strip())
    return target if urlsplit(target).scheme in ("http", "https") else None


def _standfirst(tree: Any) -> str | None:
    """The page's description when the page also sets it, word for word, right above its
    byline or date: a standfirst, not the article's first paragraph (which comes after
    them). None otherwise: when the page has no byline or date to tell by, or when a
    paragraph comes between the two (the date is the footer's, the byline an author
    box's: the description then opened the article)."""
    found = tree.xpath('//meta[@name="description" or @property="og:description"]/@content')
    byline = tree.xpath('(//time | //a[@rel="author"])[1]')
    wanted = normalized(found[0]) if found else ""
    if not wanted or not byline:
        return None
    seen = False
    holding = set(byline[0].iterancestors("p", "h2", "h3", "h4"))  # the byline's own line
    for element in tree.iter("p", "h2", "h3", "h4", "div", "time", "a"):
        if element is byline[0] or element in holding:
            return found[0] if seen else None
        # a wrapping div's text is much of the page: only the innermost blocks are read
        if element.tag in ("p", "h2", "h3", "h4") or (element.tag == "div" and not len(element)):
            words = normalized(element.text_content())
            if not seen:
                seen = words == wanted
            elif len(words.split()) > STANDFIRST_GAP_WORDS:
                return None
    return None


def _read_pdf(body: bytes) -> Article:
    from pypdf import PdfReader

    reader = PdfReader(io.BytesIO(body))
    if reader.is_encrypted and not reader.decrypt(""):
        raise ValueError("the PDF is encrypted")
    paragraphs = _pdf_paragraphs(reader)
    if not paragraphs:
        raise ValueError("the PDF has no text")
    meta = reader.metadata or {}
    title = clean_title(str(meta.get("/Title") or "")) or clean_title(paragraphs[0])
    created = getattr(reader.metadata, "creation_date", None) if reader.metadata else None
    return Article(
        text="\n\n".join(paragraphs),
        html="".join(f"<p>{html.escape(p)}</p>" for p in paragraphs),
        title=title or None,
        author=clean_title(str(meta.get("/Author") or "")) or None,
        published=_iso_moment(created),
    )


def _pdf_paragraphs(reader: Any) -> list[str]:
    """Each page's lines joined into paragraphs, within the caps."""
    paragraphs: list[str] = []
    size = 0
    for page in reader.pages[:MAX_PDF_PAGES]:
        for text in pdf_paragraphs(page.extract_text() or ""):
            paragraphs.append(text)
            size += len(text)
        if size > MAX_TEXT_CHARS:
            break
    return paragraphs


def pdf_paragraphs(page_text: str) -> list[str]:
    """A PDF page's wrapped lines as paragraphs: a blank line, or a line clearly shorter
    than the page's full lines (the last line of a paragraph, a heading), ends one."""
    lines = [" ".join(line.split()) for line in page_text.splitlines()]
    widths = sorted(len(line) for line in lines if line)
    full = widths[int(len(widths) * 0.9)] if widths else 0
    paragraphs, current = [], []
    for line in lines:
        if line:
            current.append(line)
        if current and (not line or len(line) < 0.8 * full):
            paragraphs.append(" ".join(current))
            current = []
    if current:
        paragraphs.append(" ".join(current))
    return paragraphs


def _iso_moment(moment: datetime | None) -> str | None:
    if not isinstance(moment, datetime):
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# ---------------------------------------------------------------------------------------
# Decisions: pure.


def fallback(job: PageJob, error: str, final: bool = True) -> PageResult:
    """The feed's own content when the page gives nothing."""
    source = "feed" if job.summary_text.strip() else "none"
    return PageResult(job.item_id, source, job.summary_text, job.summary, final, error)


def retry_delay(attempts: int) -> timedelta:
    """How long a page that failed in a way that may pass waits before its next try:
    ten minutes after the first failure, three times longer after each next one, at
    most a day (as a failing source's polls back off)."""
    return min(RETRY_FIRST * 3 ** max(0, attempts - 1), RETRY_MAX)


def is_final_failure(exc: FetchError, attempts: int) -> bool:
    """Timeouts, dropped connections and 5xx/429 may pass: try again, MAX_ATTEMPTS in
    all. Anything else (too big, 404, blocked, redirect loop) will not change."""
    if attempts + 1 >= MAX_ATTEMPTS:
        return True
    if isinstance(exc, HTTPStatusError):
        return exc.status not in _TRANSIENT_STATUSES
    return type(exc) not in (FetchError, FetchTimeout)


def page_result(job: PageJob, fetched_url: str, article: Article) -> PageResult:
    """A page read: its article, or the feed's text when the page had less to say."""
    if len(article.text) < len(job.summary_text) // 2:
        # A teaser page or a page mostly behind a script: the feed said more.
        metadata = replace(article, text="", html="")
        return PageResult(job.item_id, "feed", job.summary_text, job.summary, article=metadata)
    key = adopted_key(fetched_url, article.page_canonical)
    made_up = not job.title or job.title == title_from_url(job.url)
    return PageResult(
        job.item_id,
        "page",
        article.text,
        article.html,
        article=article,
        canonical_url=key,
        replace_title=made_up and bool(article.title),
    )


def interleave_by_host(jobs: Iterable[PageJob]) -> list[PageJob]:
    """One host after another, so the per-host limit never stalls every download lane."""
    by_host: dict[str, list[PageJob]] = defaultdict(list)
    for job in jobs:
        by_host[_host(job.url)].append(job)
    rounds = zip_longest(*by_host.values())
    return [job for job in chain.from_iterable(rounds) if job is not None]


# ---------------------------------------------------------------------------------------
# The run: downloads and extraction overlap; results go to `deliver` as they come.


async def read_pages(
    jobs: Iterable[PageJob],
    client: HttpClient,
    pool: WorkerPool,
    deliver: Callable[[PageResult], None],
    lanes: int = 16,
    budget: float | None = None,
    per_host: int = 2,
) -> int:
    """Fetch and read every job's page, `lanes` at a time and at most `per_host` at
    once from one site, handing each result over; returns how many were left for a
    later run. Pages still unread when `budget` seconds have passed are left (one being
    read then is cut off and counts nothing); so are, for this run, the other pages of a
    site whose page timed out or failed in a way that may pass: a slow site must not
    hold up the run."""
    waiting: dict[str, deque[PageJob]] = defaultdict(deque)
    for job in interleave_by_host(jobs):
        waiting[_host(job.url)].append(job)
    busy: Counter[str] = Counter()
    troubled: set[str] = set()  # sites whose page failed in a way that may pass
    changed = asyncio.Condition()

    def next_job() -> PageJob | None:
        for host, queue in waiting.items():  # sites in the interleaved order
            if queue and host not in troubled and busy[host] < per_host:
                busy[host] += 1
                return queue.popleft()
        return None

    def anything_left() -> bool:
        return any(queue and host not in troubled for host, queue in waiting.items())

    async def lane() -> None:
        while True:
            async with changed:
                job = next_job()
                while job is None and anything_left():
                    await changed.wait()
                    job = next_job()
            if job is None:
                return
            result = await read_one(job, client, pool)
            async with changed:
                busy[_host(job.url)] -= 1
                if not result.final:
                    troubled.add(_host(job.url))
                changed.notify_all()
            deliver(result)

    try:
        async with asyncio.timeout(budget):
            await asyncio.gather(*(lane() for _ in range(max(1, lanes))))
    except TimeoutError:
        pass
    return sum(busy.values()) + sum(len(queue) for queue in waiting.values())


def _host(url: str) -> str:
    return urlsplit(url).netloc.lower()


async def read_one(job: PageJob, client: HttpClient, pool: WorkerPool) -> PageResult:
    """One item's page fetched and read; never raises for a bad page."""
    try:
        fetched = await client.get(job.url, accept=ACCEPT)
    except FetchError as exc:
        return fallback(job, exc.reason, is_final_failure(exc, job.attempts))
    problem = _unreadable(fetched)
    if problem:
        return fallback(job, problem)
    try:
        article = await pool.run(
            read_page,
            fetched.url,
            fetched.content_type,
            fetched.charset,
            fetched.body,
            timeout=EXTRACT_TIMEOUT,
        )
    except ValueError as exc:
        return fallback(job, str(exc))
    except WorkerTimeout:
        return fallback(job, f"reading the page took longer than {EXTRACT_TIMEOUT:g} s")
    except WorkerCrashed:
        return fallback(job, "reading the page crashed the extractor")
    return page_result(job, fetched.url, article)


def _unreadable(fetched: Fetched) -> str | None:
    kind = fetched.content_type
    if kind is None or kind in HTML_TYPES or is_pdf(fetched.url, kind, fetched.body[:8]):
        return None
    return f"the page is {kind}, not HTML or PDF"

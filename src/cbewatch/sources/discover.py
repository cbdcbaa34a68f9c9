"""Finding how to follow a site, from one of its pages (`cbewatch discover URL`): its
feeds (what `<link rel="alternate">` names, then the usual paths), else its sitemap
(robots.txt's `Sitemap:` lines, then /sitemap.xml), else a list page and a CSS selector
for its item links — the most repeated link pattern in the page's main content, checked
to select exactly those links. Every candidate is fetched through the one HTTP client and
parsed as the poller would parse it; only the ones that yield items are proposed.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from urllib.parse import urljoin, urlsplit

from bs4 import BeautifulSoup, Tag

from ..errors import FetchError, ParseError
from ..http import HttpClient
from ..markup import decode_markup, html_declared_charset
from .feeds import parse_feed
from .pages import parse_list_page
from .sitemaps import parse_sitemap

FEED_TYPES = {
    "application/rss+xml",
    "application/atom+xml",
    "application/feed+json",
    "application/json",
    "application/rss",
    "text/xml",
}
USUAL_FEEDS = ("feed/", "rss.xml", "atom.xml", "feed.json", "feed.xml", "index.xml", "rss/")
MIN_LINKS = 3  # a list page lists at least this many items
SITEMAP_AGE = timedelta(days=3650)  # count every dated URL when sizing a sitemap up
_SKIPPED = ("header", "nav", "footer", "aside", "form")


@dataclass(frozen=True)
class Proposal:
    """A ready `sources.yaml` entry and what was found there."""

    kind: str  # feed | sitemap | page
    url: str
    name: str
    items: int
    newest: datetime | None
    links: str | None = None  # the CSS selector of a list page's item links

    def yaml_entry(self) -> str:
        """The entry as it goes under `sources:` (JSON strings are valid YAML scalars)."""
        lines = [
            f"  - name: {json.dumps(self.name, ensure_ascii=False)}",
            f"    url: {json.dumps(self.url)}",
            f"    kind: {self.kind}",
        ]
        if self.links:
            lines.append(f"    links: {json.dumps(self.links)}")
        return "\n".join(lines) + "\n"

    def found(self) -> str:
        newest = f", newest {self.newest:%Y-%m-%d}" if self.newest else ""
        what = {"feed": "a feed", "sitemap": "a sitemap", "page": "a list page"}[self.kind]
        return f"found {what} with {self.items} items{newest}: {self.url}"


async def discover(client: HttpClient, url: str) -> Proposal | None:
    """What to follow at `url`, or None when it offers no feed, sitemap or list."""
    page = await _get(client, url)
    if page is None:
        return None
    as_feed = _feed(page[0], page[1], page[2])
    if as_feed is not None:  # the URL is a feed itself
        return as_feed
    body, final, _ = page
    soup = BeautifulSoup(decode_markup(body, [html_declared_charset(body)]), "lxml")
    name = _site_name(soup, final)
    for candidate in _feed_candidates(soup, final):
        found = await _get(client, candidate)
        proposal = _feed(*found) if found else None
        if proposal is not None:
            return replace(proposal, name=name)
    for candidate in await _sitemap_candidates(client, final):
        found = await _get(client, candidate)
        proposal = _sitemap(found[0], found[1]) if found else None
        if proposal is not None:
            return replace(proposal, name=name)
    return _list_page(body, soup, final, name)


async def _get(client: HttpClient, url: str) -> tuple[bytes, str, str | None] | None:
    try:
        fetched = await client.get(url)
    except FetchError:
        return None
    return fetched.body, fetched.url, fetched.content_type


def _feed(body: bytes, url: str, content_type: str | None) -> Proposal | None:
    if content_type == "text/html":
        return None
    try:
        parsed = parse_feed(body, url, content_type)
    except ParseError:
        return None
    if not parsed.entries:
        return None
    title = _feed_title(body)
    dates = [e.published for e in parsed.entries if e.published]
    return Proposal("feed", url, title or _host(url), len(parsed.entries), max(dates, default=None))


def _feed_title(body: bytes) -> str:
    """The feed's own title (RSS/Atom `<title>`, JSON Feed `title`), plain text."""
    text = body[:20000].decode("utf-8", "replace")
    found = re.search(r'"title"\s*:\s*"([^"]{1,200})"', text) if text.lstrip()[:1] == "{" else None
    found = found or re.search(r"<title[^>]*>([^<]{1,200})</title>", text)
    return " ".join(found.group(1).split()) if found else ""


def _sitemap(body: bytes, url: str) -> Proposal | None:
    try:
        parsed = parse_sitemap(body, url, datetime.now().astimezone(), SITEMAP_AGE)
    except ParseError:
        return None
    count = len(parsed.entries) + len(parsed.children)
    if not count:
        return None
    dates = [e.published for e in parsed.entries if e.published]
    return Proposal("sitemap", url, _host(url), count, max(dates, default=None))


def _feed_candidates(soup: BeautifulSoup, url: str) -> list[str]:
    """`<link rel="alternate">` feeds first, then the usual paths at the page's folder and
    at the site's root."""
    found: list[str] = []
    for link in soup.find_all("link", href=True):
        rels = [r.lower() for r in link.get("rel") or []]
        kind = str(link.get("type") or "").lower().split(";")[0].strip()
        if "alternate" in rels and kind in FEED_TYPES:
            found.append(urljoin(url, str(link["href"])))
    root = _root(url)
    for base in dict.fromkeys([urljoin(url, "./"), root]):
        found += [urljoin(base, path) for path in USUAL_FEEDS]
    return [u for u in dict.fromkeys(found) if urlsplit(u).scheme in ("http", "https")]


async def _sitemap_candidates(client: HttpClient, url: str) -> list[str]:
    root = _root(url)
    found: list[str] = []
    robots = await _get(client, urljoin(root, "robots.txt"))
    if robots is not None:
        for line in robots[0].decode("utf-8", "replace").splitlines():
            name, _, value = line.partition(":")
            if name.strip().lower() == "sitemap" and value.strip():
                found.append(urljoin(root, value.strip()))
    found += [urljoin(urljoin(url, "./"), "sitemap.xml"), urljoin(root, "sitemap.xml")]
    return list(dict.fromkeys(found))


def _list_page(body: bytes, soup: BeautifulSoup, url: str, name: str) -> Proposal | None:
    """The most repeated pattern of same-site links in the main content, with a selector
    that picks exactly those links on the whole page."""
    content = soup.find("main") or soup.find(attrs={"role": "main"}) or soup.body
    if not isinstance(content, Tag):
        return None
    groups: dict[tuple[str, ...], list[Tag]] = defaultdict(list)
    for link in content.find_all("a", href=True):
        if _in_skipped(link, content) or not _item_link(str(link["href"]), url):
            continue
        groups[_path(link, content)].append(link)
    ranked = sorted(groups.items(), key=lambda kv: (-_distinct(kv[1], url), -len(kv[0])))
    for path, links in ranked:
        if _distinct(links, url) < MIN_LINKS:
            break
        selector = _selector(soup, path, links)
        if selector is None:
            continue
        parsed = parse_list_page(body, url, selector)
        dates = [e.published for e in parsed.entries if e.published]
        return Proposal("page", url, name, len(parsed.entries), max(dates, default=None), selector)
    return None


def _in_skipped(link: Tag, content: Tag) -> bool:
    for parent in link.parents:
        if parent is content:
            return False
        if parent.name in _SKIPPED or "pagination" in " ".join(parent.get("class") or []):
            return True
    return False


def _item_link(href: str, page: str) -> bool:
    target = urljoin(page, href)
    parts, here = urlsplit(target), urlsplit(page)
    return (
        parts.scheme in ("http", "https")
        and parts.netloc == here.netloc
        and target.split("#")[0] != page.split("#")[0]
        and parts.path.rstrip("/") not in ("", here.path.rstrip("/"))
    )


def _distinct(links: Iterable[Tag], page: str) -> int:
    return len({urljoin(page, str(link["href"])).split("#")[0] for link in links})


def _step(tag: Tag) -> str:
    classes = [c for c in tag.get("class") or [] if re.fullmatch(r"[A-Za-z_][\w-]*", c)]
    return f"{tag.name}.{classes[0]}" if classes else str(tag.name)


def _path(link: Tag, content: Tag) -> tuple[str, ...]:
    """The link's ancestors from the content root down, as selector steps."""
    steps = [_step(link)]
    for parent in link.parents:
        steps.append(_step(parent))
        if parent is content:
            break
    return tuple(reversed(steps))


def _selector(soup: BeautifulSoup, path: tuple[str, ...], links: list[Tag]) -> str | None:
    """The shortest tail of `path` (as a descendant selector) that selects exactly
    `links` on the whole page."""
    wanted = {id(link) for link in links}
    for length in range(2, len(path) + 1):
        selector = " ".join(path[-length:])
        if {id(tag) for tag in soup.select(selector)} == wanted:
            return selector
    return None


def _site_name(soup: BeautifulSoup, url: str) -> str:
    meta = soup.find("meta", attrs={"property": "og:site_name"})
    if isinstance(meta, Tag) and meta.get("content"):
        return " ".join(str(meta["content"]).split())[:120]
    title = soup.title.get_text(" ", strip=True) if soup.title else ""
    title = re.split(r"\s+[|–—-]\s+", title)[-1] if title else ""
    return title[:120] or _host(url)


def _root(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/"


def _host(url: str) -> str:
    return urlsplit(url).hostname or url

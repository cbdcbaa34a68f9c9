"""Read a list page that has no feed: item links chosen by a CSS selector.

Pure: bytes in, entries out, no I/O. Only absolute http(s) links to other pages leave
here; titles are plain text; the page's own chrome (nav, footer) is the selector's job.
"""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urldefrag

from bs4 import BeautifulSoup, Tag
from soupsieve import SelectorSyntaxError

from cbewatch.errors import ParseError
from cbewatch.markup import decode_markup, html_declared_charset, iso_datetime
from cbewatch.model.types import Entry
from cbewatch.sanitize import clean_title
from cbewatch.sources.model import ParsedPage
from cbewatch.urls import absolute_http_url

NEXT_TEXTS = {"next", "next page", "older posts", "older entries", "›", "»"}
SKIPPED_SCHEMES = ("javascript:", "mailto:", "tel:", "data:", "vbscript:")


def parse_list_page(body: bytes, url: str, selector: str, charset: str | None = None) -> ParsedPage:
    """Entries for the links `selector` picks on the page at `url`, in page order."""
    text = decode_markup(body, [charset, html_declared_charset(body)])
    soup = BeautifulSoup(text, "lxml")
    base = _base_url(soup, url)
    try:
        chosen = soup.select(selector)
    except SelectorSyntaxError as error:
        raise ParseError(url, f"invalid CSS selector {selector!r}") from error
    entries = _entries(chosen, base, url)
    problem = None if chosen else f"The selector {selector!r} matched nothing on the page."
    return ParsedPage(entries=entries, next_url=_next_url(soup, base, url), problem=problem)


def _base_url(soup: BeautifulSoup, url: str) -> str:
    base = soup.find("base", href=True)
    if isinstance(base, Tag):
        candidate = _page_link(str(base["href"]), url, "")
        if candidate:
            return candidate
    return url


def _entries(chosen: list[Tag], base: str, page_url: str) -> list[Entry]:
    """One entry per URL in page order; a title from link text beats alt or title text."""
    found: dict[str, Entry] = {}
    titled_by_text: set[str] = set()
    for link in _links(chosen):
        target = _page_link(str(link["href"]), base, page_url)
        text = clean_title(link.get_text(" "))
        if not target or target in titled_by_text or (target in found and not text):
            continue
        title = text or _fallback_title(link)
        found[target] = Entry(url=target, title=title, published=_nearby_date(link))
        if text:
            titled_by_text.add(target)
    return list(found.values())


def _links(chosen: list[Tag]) -> list[Tag]:
    """The chosen <a href> elements, or the first one inside each other chosen element."""
    links = [e if e.name == "a" else e.find("a", href=True) for e in chosen]
    return [link for link in links if isinstance(link, Tag) and link.get("href")]


def _page_link(href: str, base: str, page_url: str) -> str | None:
    """Absolute http(s) URL without fragment; None for in-page, script or mail links."""
    href = href.strip()
    if not href or href.startswith("#") or href.lower().startswith(SKIPPED_SCHEMES):
        return None
    target = absolute_http_url(href, base)
    if target is None:
        return None
    target = urldefrag(target).url
    return None if target == urldefrag(page_url).url else target


def _fallback_title(link: Tag) -> str:
    """For a link without text (an image, an icon): its title, else an image's alt."""
    image = link.find("img", alt=True)
    fallback = link.get("title") or (image.get("alt") if isinstance(image, Tag) else "")
    return clean_title(str(fallback or ""))


def _nearby_date(link: Tag) -> datetime | None:
    container = link.find_parent(["article", "li"])
    stamp = container.find("time", datetime=True) if container else None
    if not isinstance(stamp, Tag):
        return None
    return iso_datetime(str(stamp["datetime"]))


def _next_url(soup: BeautifulSoup, base: str, page_url: str) -> str | None:
    """rel=next on a <link> or <a> first, then an <a> that says "Next", "»" and the like."""
    tags = soup.find_all(["link", "a"], href=True)
    by_rel = [t for t in tags if "next" in _rels(t)]
    by_text = [t for t in tags if t.name == "a" and _squeezed(t.get_text(" ")) in NEXT_TEXTS]
    for tag in by_rel + by_text:
        found = _page_link(str(tag["href"]), base, page_url)
        if found:
            return found
    return None


def _squeezed(text: str) -> str:
    return " ".join(text.split()).lower()


def _rels(tag: Tag) -> list[str]:
    return [str(rel).lower() for rel in tag.get_attribute_list("rel") if rel]

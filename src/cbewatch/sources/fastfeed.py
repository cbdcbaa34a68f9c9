"""Well-formed RSS 2.0 and Atom 1.0, read with lxml: the common case, ten times faster
than feedparser's pure-Python handlers. Anything this reader is not sure of (ill-formed
XML, another format, an unreadable date) returns None and feedparser reads it instead,
so both give the same entries (tests/test_parsers.py holds them to that).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urljoin

from lxml import etree

from ..markup import as_utc, iso_datetime

ATOM = "{http://www.w3.org/2005/Atom}"
CONTENT_ENCODED = "{http://purl.org/rss/1.0/modules/content/}encoded"
DC = "{http://purl.org/dc/elements/1.1/}"
RSS_VERSIONS = ("2.0", "0.91", "0.92", "0.93", "0.94")

_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False, recover=False
)


class _NotSure(Exception):
    """This feed is better left to feedparser."""


@dataclass(frozen=True)
class RawEntry:
    """An entry's fields as the feed gives them, before cleaning (both readers make these)."""

    link: str | None
    id: str | None  # a fallback link when it is an http(s) URL
    title: str  # may hold markup or entities
    content: str  # HTML: the full content, else the summary
    base: str | None  # xml:base for the content's relative links
    published: datetime | None
    author: str  # "Name", "email (Name)", "Name <email>" or ""


@dataclass(frozen=True)
class RawFeed:
    entries: list[RawEntry]
    next_href: str | None


def read_simple_feed(text: str, url: str) -> RawFeed | None:
    """Read `text` if it is well-formed RSS 2.0 or Atom 1.0; None to leave it to feedparser."""
    try:
        root = etree.fromstring(text.encode("utf-8"), _PARSER, base_url=url)
        if root.tag == "rss" and root.get("version", "2.0") in RSS_VERSIONS:
            return _rss(root)
        if root.tag == f"{ATOM}feed":
            return _atom(root, url)
    except (etree.XMLSyntaxError, _NotSure, ValueError):
        return None
    return None


def _rss(root: etree._Element) -> RawFeed:
    channel = root.find("channel")
    if channel is None:
        raise _NotSure
    entries = []
    for item in channel.iter("item"):
        guid = item.find("guid")
        permalink = guid is not None and guid.get("isPermaLink", "true").lower() != "false"
        entries.append(
            RawEntry(
                link=_text(item, "link"),
                id=_text(item, "guid") if permalink else None,
                title=_text(item, "title"),
                content=_text(item, CONTENT_ENCODED) or _text(item, "description"),
                base=None,
                published=_rss_date(item),
                author=_text(item, "author") or _text(item, f"{DC}creator"),
            )
        )
    return RawFeed(entries, _next(channel, f"{ATOM}link"))


def _atom(root: etree._Element, url: str) -> RawFeed:
    entries = []
    for item in root.iter(f"{ATOM}entry"):
        body = item.find(f"{ATOM}content")
        if body is None or not _atom_text(body):
            body = item.find(f"{ATOM}summary")
        content = _atom_text(body) if body is not None else ""
        if body is not None and body.get("type", "text") in ("text", "text/plain"):
            content = html.escape(content)
        entries.append(
            RawEntry(
                link=_atom_link(item),
                id=_text(item, f"{ATOM}id"),
                title=_atom_title(item),
                content=content,
                base=_base(body, url) if body is not None else None,
                published=_iso(_text(item, f"{ATOM}published") or _text(item, f"{ATOM}updated")),
                author=_text(item, f"{ATOM}author/{ATOM}name"),
            )
        )
    return RawFeed(entries, _next(root, f"{ATOM}link"))


def _text(element: etree._Element, path: str) -> str:
    found = element.find(path)
    return (found.text or "").strip() if found is not None else ""


def _atom_text(element: etree._Element) -> str:
    kind = element.get("type", "text")
    if kind == "xhtml":
        div = element.find("{http://www.w3.org/1999/xhtml}div")
        if div is None:
            raise _NotSure
        inner = (div.text or "") + "".join(
            etree.tostring(child, encoding="unicode") for child in div
        )
        return inner.strip()
    if kind not in ("text", "html", "text/html", "text/plain"):
        raise _NotSure
    return (element.text or "").strip()


def _atom_title(item: etree._Element) -> str:
    title = item.find(f"{ATOM}title")
    return _atom_text(title) if title is not None else ""


def _atom_link(item: etree._Element) -> str | None:
    for link in item.iterfind(f"{ATOM}link"):
        if link.get("rel", "alternate") == "alternate" and link.get("href"):
            return _resolve(link, link.get("href", ""))
    return None


def _base(element: etree._Element, url: str) -> str | None:
    """The xml:base in force for `element`, when the document sets one."""
    base = element.base
    return base if base and base != url else None


def _resolve(element: etree._Element, href: str) -> str:
    return urljoin(element.base or "", href)


def _next(parent: etree._Element, tag: str) -> str | None:
    for link in parent.iterfind(tag):
        if link.get("rel") == "next" and link.get("href"):
            return _resolve(link, link.get("href", ""))
    return None


def _rss_date(item: etree._Element) -> datetime | None:
    text = _text(item, "pubDate")
    if text:
        try:
            moment = parsedate_to_datetime(text)
        except (TypeError, ValueError):
            raise _NotSure from None  # feedparser knows many more broken date formats
        return as_utc(moment)
    return _iso(_text(item, f"{DC}date"))


def _iso(text: str) -> datetime | None:
    moment = iso_datetime(text)
    if text and moment is None:
        raise _NotSure  # let feedparser try its many date formats
    return moment

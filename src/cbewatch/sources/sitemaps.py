"""Read sitemaps (urlset and sitemapindex, plain or gzip) into recent entries.

Pure: bytes in, entries out, no I/O. The XML parser never resolves entities, never
touches the network, and gzip bodies are never inflated past MAX_INFLATED bytes.
"""

from __future__ import annotations

import zlib
from datetime import UTC, datetime, timedelta

from lxml import etree

from cbewatch.errors import ParseError
from cbewatch.markup import (
    decode_markup,
    defuse_xml,
    title_from_url,
    w3c_datetime,
    xml_declared_charset,
)
from cbewatch.model.types import Entry
from cbewatch.sources.model import ParsedPage
from cbewatch.urls import absolute_http_url

MAX_INFLATED = 20 * 1024 * 1024
NOT_A_SITEMAP = "not a sitemap (urlset or sitemapindex)"
GZIP_MAGIC = b"\x1f\x8b"


def parse_sitemap(body: bytes, url: str, now: datetime, max_age: timedelta) -> ParsedPage:
    """Entries whose <lastmod> is within `max_age` of `now`; an index gives `children`."""
    root, problem = _parse_xml(_inflate(body, url), url)
    now = now if now.tzinfo else now.replace(tzinfo=UTC)
    kind = etree.QName(root).localname
    if kind == "urlset":
        return ParsedPage(entries=_recent_urls(root, url, now, max_age), problem=problem)
    if kind == "sitemapindex":
        return ParsedPage(children=_recent_sitemaps(root, url, now, max_age), problem=problem)
    raise ParseError(url, NOT_A_SITEMAP)


def _inflate(body: bytes, url: str) -> bytes:
    if not body.startswith(GZIP_MAGIC):
        return body
    inflater = zlib.decompressobj(wbits=31)
    try:
        data = inflater.decompress(body, MAX_INFLATED + 1)
    except zlib.error as error:
        raise ParseError(url, "a corrupt gzip-compressed sitemap") from error
    if len(data) > MAX_INFLATED:
        raise ParseError(url, f"the sitemap inflates to more than {MAX_INFLATED // 2**20} MB")
    return data


def _parse_xml(body: bytes, url: str) -> tuple[etree._Element, str | None]:
    """The root element, and a sentence when libxml2 had to recover from errors."""
    text = defuse_xml(decode_markup(body, [xml_declared_charset(body)]), url)
    parser = etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        huge_tree=False,
        recover=True,
        load_dtd=False,
        dtd_validation=False,
    )
    try:
        root = etree.fromstring(text.encode("utf-8"), parser)
    except etree.XMLSyntaxError as error:
        raise ParseError(url, NOT_A_SITEMAP) from error
    if root is None:
        raise ParseError(url, NOT_A_SITEMAP)
    errors = [e for e in parser.error_log if e.level >= etree.ErrorLevels.ERROR]
    if not errors:
        return root, None
    first = errors[0]
    return root, f"The sitemap is not well-formed XML ({first.message} on line {first.line})."


def _recent_urls(root: etree._Element, base: str, now: datetime, age: timedelta) -> list[Entry]:
    entries: dict[str, Entry] = {}
    for loc, lastmod in _locations(root, "url", base):
        if lastmod and abs(now - lastmod) <= age and loc not in entries:
            entries[loc] = Entry(url=loc, title=title_from_url(loc), published=lastmod)
    return list(entries.values())


def _recent_sitemaps(root: etree._Element, base: str, now: datetime, age: timedelta) -> list[str]:
    children: list[str] = []
    for loc, lastmod in _locations(root, "sitemap", base):
        if (lastmod is None or now - lastmod <= age) and loc not in children:
            children.append(loc)
    return children


def _locations(root: etree._Element, item: str, base: str) -> list[tuple[str, datetime | None]]:
    """(loc, lastmod) of each <url> or <sitemap> child, any namespace, http(s) only."""
    found = []
    for element in root:
        if not isinstance(element.tag, str) or etree.QName(element).localname != item:
            continue
        loc = absolute_http_url(_child_text(element, "loc"), base)
        if loc is not None:
            found.append((loc, w3c_datetime(_child_text(element, "lastmod"))))
    return found


def _child_text(element: etree._Element, name: str) -> str:
    for child in element:
        if isinstance(child.tag, str) and etree.QName(child).localname == name:
            return (child.text or "").strip()
    return ""

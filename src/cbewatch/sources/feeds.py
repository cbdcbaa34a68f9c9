"""Read RSS 0.9x/1.0/2.0, Atom (feedparser) and JSON Feed bodies into a ParsedPage.

Pure: bytes in, sanitized entries out, never any I/O (feedparser only ever gets bytes).
"""

from __future__ import annotations

import calendar
import html
import io
import json
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any

import feedparser

from cbewatch.errors import ParseError
from cbewatch.markup import decode_markup, defuse_xml, iso_datetime, xml_declared_charset
from cbewatch.model.types import Entry
from cbewatch.sanitize import clean_html, clean_title, plain_text
from cbewatch.sources.fastfeed import RawEntry, read_simple_feed
from cbewatch.sources.model import ParsedPage
from cbewatch.urls import absolute_http_url

NOT_A_FEED = "not an RSS, Atom or JSON feed"
JSON_TYPES = ("application/feed+json", "application/json")
_SAX_ERROR = re.compile(r".*?:(?P<line>\d+):\d+: (?:not well-formed \()?(?P<reason>[^)]+)")
_EMAIL = re.compile(r"[^\s@<>()]+@[^\s@<>()]+")
_EMAIL_THEN_NAME = re.compile(r"\s*[^\s@<>()]+@[^\s@<>()]+\s*\((?P<name>[^()]+)\)\s*")
_NAME_THEN_EMAIL = re.compile(r"\s*(?P<name>[^<>@]+?)\s*<[^\s@<>]+@[^\s@<>]+>\s*")
MAX_AUTHOR = 200  # longer is not a name; also keeps the author patterns cheap


def parse_feed(
    body: bytes, url: str, content_type: str | None = None, charset: str | None = None
) -> ParsedPage:
    """Parse a feed body fetched from `url`; raise ParseError when it is not a feed."""
    text = decode_markup(body, [charset, xml_declared_charset(body)])
    if _looks_like_json(text, content_type):
        return _parse_json_feed(text, url)
    return _parse_xml_feed(text, url)


def _looks_like_json(text: str, content_type: str | None) -> bool:
    start = text.lstrip()[:1]
    if start == "{":
        return True
    media = (content_type or "").split(";")[0].strip().lower()
    return media in JSON_TYPES and start != "<"


def _parse_xml_feed(text: str, url: str) -> ParsedPage:
    text = defuse_xml(text, url)
    simple = read_simple_feed(text, url)
    if simple is not None:
        entries = [e for raw in simple.entries if (e := _entry(raw, url))]
        return ParsedPage(entries=entries, next_url=_next_page(simple.next_href, url))
    return _parse_with_feedparser(text, url)


def _parse_with_feedparser(text: str, url: str) -> ParsedPage:
    result = feedparser.parse(
        io.BytesIO(text.encode("utf-8")),
        response_headers={
            "content-type": "application/xml; charset=utf-8",
            "content-location": url,
        },
        # nh3 does both jobs properly; feedparser's versions turn an entity-encoded
        # javascript: href into a relative link and unsafe links into self-links.
        sanitize_html=False,
        resolve_relative_uris=False,
    )
    if not result.get("version"):
        raise ParseError(url, NOT_A_FEED)
    raws = [_feedparser_raw(item, url) for item in result.entries]
    entries = [entry for raw in raws if (entry := _entry(raw, url))]
    return ParsedPage(
        entries=entries,
        next_url=_next_link(result.feed.get("links", []), url),
        problem=_bozo_problem(result, len(entries)),
    )


def _bozo_problem(result: Mapping[str, Any], count: int) -> str | None:
    if not result.get("bozo"):
        return None
    match = _SAX_ERROR.match(str(result.get("bozo_exception") or ""))
    detail = f" ({match['reason']} on line {match['line']})" if match else ""
    read = "1 entry was" if count == 1 else f"{count} entries were"
    return f"The feed is not well-formed XML{detail}; {read} read leniently."


def _entry(raw: RawEntry, feed_url: str) -> Entry | None:
    """Clean an entry's raw fields; None when it has no http(s) link."""
    link = _http_url(raw.link, feed_url) or _http_url(raw.id, feed_url, True)
    if not link:
        return None
    return Entry(
        url=link,
        title=clean_title(raw.title),
        summary=clean_html(raw.content, raw.base or link),
        summary_text=plain_text(raw.content),
        published=raw.published,
        author=author_name(raw.author),
    )


def _feedparser_raw(item: dict[str, Any], feed_url: str) -> RawEntry:
    content, base = _feedparser_content(item, feed_url)
    author = (item.get("author") or "")[:MAX_AUTHOR]
    if not (_EMAIL_THEN_NAME.fullmatch(author) or _NAME_THEN_EMAIL.fullmatch(author)):
        author = item.get("author_detail", {}).get("name") or author  # "Name (email)" → Name
    return RawEntry(
        link=item.get("link"),
        id=item.get("id"),
        title=item.get("title", ""),
        content=content,
        base=base,
        published=_feedparser_date(item),
        author=author,
    )


def _feedparser_content(item: dict[str, Any], feed_url: str) -> tuple[str, str | None]:
    """The richest body (full content over summary) and its xml:base, if one was set.

    Plain text is escaped so that a literal "<b>" stays text.
    """
    for detail in [*item.get("content", []), item.get("summary_detail") or {}]:
        value = detail.get("value") or ""
        if value.strip():
            base = detail.get("base") if detail.get("base") != feed_url else None
            return (html.escape(value) if detail.get("type") == "text/plain" else value), base
    return "", None


def author_name(raw: str) -> str | None:
    """The name in "Name", "email (Name)" or "Name <email>"; None for a bare email.
    (feedparser's own split of "email (Name)" breaks on long top-level domains.)"""
    raw = raw[:MAX_AUTHOR]
    match = _EMAIL_THEN_NAME.fullmatch(raw) or _NAME_THEN_EMAIL.fullmatch(raw)
    if match:
        return clean_title(match["name"]) or None
    return None if _EMAIL.fullmatch(raw.strip()) else clean_title(raw) or None


def _feedparser_date(item: dict[str, Any]) -> datetime | None:
    """published, else updated; plain dict lookups because FeedParserDict.get maps
    `updated_parsed` back to `published_parsed` (with a DeprecationWarning)."""
    value = dict.get(item, "published_parsed") or dict.get(item, "updated_parsed")
    if not value:
        return None
    try:
        return datetime.fromtimestamp(calendar.timegm(value), UTC)
    except (TypeError, ValueError, OverflowError, OSError):
        return None


def _next_link(links: Iterable[Mapping[str, Any]], feed_url: str) -> str | None:
    """RFC 5005 rel=next, unless it points back at this very page (a loop)."""
    hrefs = [link.get("href") for link in links if link.get("rel") == "next"]
    return _next_page(hrefs[0] if hrefs else None, feed_url)


def _next_page(href: Any, feed_url: str) -> str | None:
    found = _http_url(href, feed_url)
    return found if found and found != feed_url else None


def _http_url(value: Any, base: str, absolute_only: bool = False) -> str | None:
    """`value` as an absolute http(s) URL, or None; ids must be absolute already."""
    if absolute_only and absolute_http_url(value) is None:
        return None
    return absolute_http_url(value, base)


def _parse_json_feed(text: str, url: str) -> ParsedPage:
    try:
        document = json.loads(text)
    except (ValueError, RecursionError) as error:
        raise ParseError(url, NOT_A_FEED) from error
    version = document.get("version") if isinstance(document, dict) else None
    items = document.get("items") if isinstance(document, dict) else None
    if not (isinstance(version, str) and "jsonfeed.org/version/" in version):
        raise ParseError(url, NOT_A_FEED)
    if not isinstance(items, list):
        raise ParseError(url, "a JSON Feed without an items list")
    entries = [entry for item in items if (entry := _json_entry(item, url))]
    return ParsedPage(entries=entries, next_url=_next_page(document.get("next_url"), url))


def _json_entry(item: Any, feed_url: str) -> Entry | None:
    if not isinstance(item, dict):
        return None
    link = _http_url(item.get("url"), feed_url) or _http_url(item.get("id"), feed_url, True)
    if not link:
        return None
    raw = _json_content(item)
    return Entry(
        url=link,
        title=clean_title(_text(item.get("title"))),
        summary=clean_html(raw, link),
        summary_text=plain_text(raw),
        published=iso_datetime(item.get("date_published") or item.get("date_modified")),
        author=_json_author(item),
    )


def _json_content(item: Mapping[str, Any]) -> str:
    if _text(item.get("content_html")).strip():
        return _text(item.get("content_html"))
    plain = _text(item.get("content_text")) or _text(item.get("summary"))
    paragraphs = [p.strip() for p in re.split(r"\n\s*\n", plain) if p.strip()]
    return "".join(f"<p>{html.escape(p)}</p>" for p in paragraphs)


def _json_author(item: Mapping[str, Any]) -> str | None:
    """JSON Feed 1.1 `authors` list, else 1.0 `author` object."""
    authors = item.get("authors")
    candidates = authors if isinstance(authors, list) else [item.get("author")]
    for author in candidates:
        if isinstance(author, dict) and _text(author.get("name")).strip():
            return clean_title(_text(author.get("name"))) or None
    return None


def _text(value: Any) -> str:
    return value if isinstance(value, str) else ""

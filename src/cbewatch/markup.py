"""What every reader of fetched bytes shares: decoding a body's charset, defusing XML,
reading the dates feeds, pages and sitemaps write, a title made from a URL.

Pure and total: values in, values out, never any I/O; an unreadable date is None.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import unquote, urlsplit

from lxml import etree

from cbewatch.errors import ParseError
from cbewatch.sanitize import clean_title

# Declared charsets that real feeds get wrong by mixing in UTF-8 or cp1252 bytes.
WESTERN_CHARSETS = {"utf-8", "ascii", "latin-1", "iso8859-1", "cp1252", "iso8859-15"}

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_XML_DECL = re.compile(rb"^\s*<\?xml[^>]*?encoding\s*=\s*[\"']([\w.:-]+)[\"']", re.I)
_XML_DECL_ENCODING = re.compile(r"(^\s*<\?xml[^>]*?encoding\s*=\s*)[\"'][\w.:-]+[\"']", re.I)
_META_CHARSET = re.compile(rb"<meta[^>]+charset\s*=\s*[\"']?\s*([\w.:-]+)", re.I)
_XML_INVALID_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]")
_PAGE_SUFFIX = re.compile(r"\.(html?|php|aspx?|jsp)$", re.I)
_ID_LIKE = re.compile(r"^[\d_-]+$|^[0-9a-f]{16,}$", re.I)


# ---------------------------------------------------------------------------------------
# Charsets


def _cp1252_fallback(error: UnicodeError) -> tuple[str, int]:
    """Decode each byte UTF-8 rejected as cp1252 (0x92 → ’), the usual culprit."""
    if not isinstance(error, UnicodeDecodeError):
        raise error
    chunk = error.object[error.start : error.end]
    return chunk.decode("cp1252", errors="replace"), error.end


codecs.register_error("cbewatch-cp1252", _cp1252_fallback)


def decode_markup(body: bytes, declared: Iterable[str | None]) -> str:
    """Decode `body` trusting its bytes over its declarations.

    Order: a BOM; bytes that are valid UTF-8 (whatever was declared); a declared
    non-western charset; else UTF-8 with a per-byte cp1252 fallback for stray bytes.
    """
    for bom, encoding in _BOMS:
        if body.startswith(bom):
            return body.decode(encoding, errors="replace")
    names = [name for name in map(_codec_name, declared) if name]
    wide = next((n for n in names if n.startswith(("utf-16", "utf-32"))), None)
    if wide:
        return body.decode(wide, errors="replace")
    try:
        return body.decode("utf-8")
    except UnicodeDecodeError:
        pass
    other = next((n for n in names if n not in WESTERN_CHARSETS), None)
    if other:
        return body.decode(other, errors="replace")
    return body.decode("utf-8", errors="cbewatch-cp1252")


def html_declared_charset(body: bytes) -> str | None:
    """The charset a `<meta>` tag near the top of an HTML page declares, if any."""
    match = _META_CHARSET.search(body[:4096])
    return match.group(1).decode("ascii") if match else None


def xml_declared_charset(body: bytes) -> str | None:
    """The encoding an XML declaration names, if any."""
    match = _XML_DECL.match(body[:1024])
    return match.group(1).decode("ascii") if match else None


def _codec_name(label: str | None) -> str | None:
    if not label:
        return None
    try:
        name = codecs.lookup(label.strip().strip("\"'")).name
    except LookupError:
        return None
    return {"iso8859-1": "latin-1", "us-ascii": "ascii"}.get(name, name)


# ---------------------------------------------------------------------------------------
# XML


ENTITIES_REFUSED = (
    "it declares its own XML entities (a DTD internal subset), which feeds and sitemaps "
    "never need and entity bombs are made of"
)
# Only to look at a document's DTD: nothing is expanded, fetched or kept.
_PROBE = etree.XMLParser(
    recover=True, resolve_entities=False, load_dtd=False, no_network=True, huge_tree=False
)
_DOCTYPE = re.compile(r"<!doctype", re.IGNORECASE)


def defuse_xml(text: str, url: str) -> str:
    """Make decoded XML say what it now is (UTF-8), drop the characters XML forbids, and
    refuse (ParseError) a document that declares entities: read by a real XML parser
    (lxml, expanding nothing), not a pattern, so no comment or quoted literal hides one."""
    text = _XML_DECL_ENCODING.sub(r'\1"utf-8"', text, count=1)
    text = _XML_INVALID_CHARS.sub("", text)
    if _DOCTYPE.search(text) and _declares_entities(text):
        raise ParseError(url, ENTITIES_REFUSED)
    return text


def _declares_entities(text: str) -> bool:
    try:
        root = etree.fromstring(text.encode("utf-8"), _PROBE)
    except etree.XMLSyntaxError:
        root = None
    if root is None:  # nothing a parser could read: judge by the text, and be strict
        return "<!ENTITY" in text.upper()
    dtd = root.getroottree().docinfo.internalDTD
    return dtd is not None and next(iter(dtd.iterentities()), None) is not None


# ---------------------------------------------------------------------------------------
# Dates, read into aware UTC datetimes; an unreadable or out-of-range date is None


def as_utc(moment: datetime) -> datetime | None:
    """`moment` in UTC (no zone means UTC); None when it falls outside datetime's range."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def iso_datetime(value: Any) -> datetime | None:
    """An ISO 8601 string as aware UTC; None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return as_utc(parsed)


def w3c_datetime(value: str) -> datetime | None:
    """A sitemap <lastmod> (W3C datetime: YYYY, YYYY-MM, a date or a full timestamp)."""
    if re.fullmatch(r"\d{4}(-\d{2})?", value):
        value += "-01-01" if len(value) == 4 else "-01"
    return iso_datetime(value)


# ---------------------------------------------------------------------------------------
# Titles


def title_from_url(url: str) -> str:
    """A readable title from the URL's last path segment: ".../new-grading-policy/" →
    "New grading policy"; empty when the segment is an id or missing."""
    segments = [s for s in urlsplit(url).path.split("/") if s]
    slug = _PAGE_SUFFIX.sub("", unquote(segments[-1])) if segments else ""
    if not slug or _ID_LIKE.match(slug):
        return ""
    words = " ".join(re.split(r"[-_+\s]+", slug)).strip()
    return clean_title(words[:1].upper() + words[1:])

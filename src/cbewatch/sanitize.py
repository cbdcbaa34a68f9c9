"""Turn untrusted markup from the web into safe HTML, plain text and one-line titles.

Runs once, at the border, on everything fetched: an allow-list (nh3), never a block-list.
Nothing executable may leave here: no scripts, event handlers, style, frames or odd URLs.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import nh3

from .urls import absolute_http_url

TITLE_MAX = 300

ALLOWED_TAGS = {
    "p", "a", "em", "strong", "b", "i", "ul", "ol", "li", "blockquote", "br",
    "h2", "h3", "h4", "h5", "h6", "img", "code", "pre", "figure", "figcaption",
}  # fmt: skip
ALLOWED_ATTRIBUTES = {"a": {"href", "title"}, "img": {"src", "alt"}}
URL_SCHEMES = {"http", "https", "mailto"}
# Dropped with everything inside them, not just the tags: their text is code or chrome.
DROPPED_WITH_CONTENT = {
    "script", "style", "template", "noscript", "iframe", "frame", "frameset",
    "object", "embed", "applet", "svg", "math", "form", "select", "textarea", "button",
}  # fmt: skip

_BLOCK_TAGS = {
    "p", "div", "section", "article", "header", "footer", "aside", "nav", "main",
    "blockquote", "pre", "figure", "figcaption", "table", "ul", "ol", "dl",
    "h1", "h2", "h3", "h4", "h5", "h6", "hr", "address", "details", "summary",
}  # fmt: skip
_LINE_TAGS = {"br", "li", "tr", "dt", "dd"}
_CELL_TAGS = {"td", "th"}
# Void elements never close, so they must not open a skipped region.
_SKIPPED_TEXT_TAGS = (DROPPED_WITH_CONTENT - {"embed", "frame"}) | {"head", "title"}
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_TAG_LIKE = re.compile(r"<\s*/?\s*[A-Za-z][^<>]*>")
_SPACES = re.compile(r"[^\S\n]+")
_BLANK_LINES = re.compile(r" *\n[ \n]*")


def clean_html(html: str, base_url: str | None = None) -> str:
    """Sanitize an HTML fragment; relative links are resolved against `base_url`.

    Without an absolute http(s) `base_url`, relative links are dropped: they would
    otherwise point at our own site once shown there.
    """
    relative: str | tuple[str, str] = "deny"
    base = absolute_http_url(base_url)
    if base:
        relative = ("rewrite_with_base", base)
    cleaned = nh3.clean(
        _CONTROL_CHARS.sub("", html),
        tags=ALLOWED_TAGS,
        clean_content_tags=DROPPED_WITH_CONTENT,
        attributes=ALLOWED_ATTRIBUTES,
        url_schemes=URL_SCHEMES,
        url_relative=relative,
        link_rel="noopener noreferrer",
        strip_comments=True,
    )
    return cleaned.strip()


def html_to_text(html: str) -> str:
    """Plain text of an HTML fragment: paragraphs split by blank lines, entities decoded."""
    if "<" not in html and "&" not in html:  # already plain: skip the parser (hot path)
        return _SPACES.sub(" ", _CONTROL_CHARS.sub("", html).replace("\n", " ")).strip()
    collector = _TextCollector()
    collector.feed(_CONTROL_CHARS.sub("", html))
    collector.close()
    text = _SPACES.sub(" ", "".join(collector.parts))
    text = _BLANK_LINES.sub(lambda m: "\n\n" if m.group().count("\n") > 1 else "\n", text)
    return text.strip()


def plain_text(html: str) -> str:
    """`html_to_text` with no tag-like text left in it: markup escaped twice comes out of
    one pass as "<svg onload=…>" text, which no consumer should ever be handed."""
    return without_tags(html_to_text(html))


def without_tags(text: str) -> str:
    """Plain text with nothing left that looks like a tag."""
    if not _TAG_LIKE.search(text):
        return text
    return _SPACES.sub(" ", _TAG_LIKE.sub("", text)).strip()


def clean_title(text: str) -> str:
    """One line of plain text, at most 300 characters, cut on a word boundary with "…"."""
    title = " ".join(html_to_text(text).split())
    # Titles escaped twice ("&lt;em&gt;" inside type="html") are still markup after one
    # pass: read them once more, then drop whatever still looks like a tag.
    if _TAG_LIKE.search(title):
        title = " ".join(html_to_text(title).split())
    title = without_tags(title)
    if len(title) <= TITLE_MAX:
        return title
    cut = title[: TITLE_MAX - 1]
    if " " in cut[TITLE_MAX // 2 :]:
        cut = cut.rsplit(" ", 1)[0]
    return cut.rstrip(" ,;:.-–—") + "…"


class _TextCollector(HTMLParser):
    """Collects text, turning block boundaries into newlines and skipping code."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self._skipping: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIPPED_TEXT_TAGS:
            self._skipping.append(tag)
        self._break(tag, start=True)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self._break(tag, start=True)

    def handle_endtag(self, tag: str) -> None:
        if tag in self._skipping:
            while self._skipping and self._skipping.pop() != tag:
                pass
        self._break(tag, start=False)

    def handle_data(self, data: str) -> None:
        if not self._skipping:
            self.parts.append(data.replace("\n", " "))

    def _break(self, tag: str, start: bool) -> None:
        if tag in _BLOCK_TAGS:
            self.parts.append("\n\n")
        elif tag in _LINE_TAGS and start:
            self.parts.append("\n")
        elif tag in _CELL_TAGS:
            self.parts.append(" ")

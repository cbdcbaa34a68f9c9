"""Markdown-light for blurbs, intro and closing: links and emphasis, nothing else.

Curators write it; it comes out as HTML (email, web), as plain text with numbered links
(the email's text part) and as escaped Markdown (the blog export). It must never let raw
HTML, an image or a link other than http(s)/mailto through: markdown-it parses with only
emphasis and links enabled, our own check vets every link, and nh3 cleans the HTML it makes.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from html import escape

import nh3
from markdown_it import MarkdownIt

# The HTML these functions may produce; nh3 enforces it whatever markdown-it does.
HTML_TAGS = {"a", "em", "strong", "br", "p"}
HTML_ATTRIBUTES = {"a": {"href"}}
LINK_SCHEMES = {"http", "https", "mailto"}

_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # and invalid in XML 1.0
_HTTP_LINK = re.compile(r"https?://[^/?#\s@]+(?:[/?#]\S*)?", re.IGNORECASE)
_MAILTO_LINK = re.compile(r"mailto:[^\s@/]+@[^\s@/]+", re.IGNORECASE)
_PARAGRAPH_BREAK = re.compile(r"\n[ \t]*\n\s*")
_LINK_PATTERN = re.compile(r"!?\[([^\]]*)\]\((?:[^()\s]|\([^()\s]*\))*\)")
_EMPHASIS_MARK = re.compile(r"(?<![\w\\])[*_]{1,3}(?=\S)|(?<=\S)[*_]{1,3}(?!\w)")
_ENTITY_LIKE = re.compile(r"&(?=#\d+;|#x[0-9a-f]+;|\w+;)", re.IGNORECASE)
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]<~])")
_LINE_START_SPECIAL = re.compile(r"^(\s*)([#>+-]|\d+[.)])", re.MULTILINE)

# An event of the parsed text: ("text", s), ("em"|"/em"|"strong"|"/strong", ""),
# ("a", href), ("/a", href), or ("p", "") between paragraphs.
Event = tuple[str, str]


def valid_link(url: str) -> bool:
    """An absolute http(s) URL with a host, or a mailto: address; nothing else (no
    javascript:, data:, file:, and no relative links: they would point at our own site)."""
    return bool(_HTTP_LINK.fullmatch(url) or _MAILTO_LINK.fullmatch(url))


def _make_parser() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False})
    md.enable(["emphasis", "link"])
    default_validate = md.validateLink
    # markdown-it's own check drops javascript:, vbscript:, file: and data:; ours keeps
    # only the schemes above. A link that fails stays as its literal text.
    md.validateLink = lambda url: default_validate(url) and valid_link(url)  # type: ignore[method-assign]
    # The same URL comes back often (a blurb's link, then its entry's own URL), and
    # percent-encoding it is a sixth of a blurb's parse.
    md.normalizeLink = lru_cache(maxsize=4096)(md.normalizeLink)  # type: ignore[method-assign]
    return md


_MD = _make_parser()


def normalize_link(url: str) -> str:
    """`url` as markdown-it writes a link's href (percent-encoded), so that an entry's URL
    compares equal to the same URL written in its blurb."""
    return _MD.normalizeLink(url)


@lru_cache(maxsize=8192)
def _events(text: str) -> tuple[Event, ...]:
    """The text parsed once (a process renders each blurb in several forms). Paragraphs
    are split here, on blank lines, and each parsed as inline text: markdown-it's block
    parser would only find paragraphs anyway, at a fifth more cost."""
    events: list[Event] = []
    for paragraph in _PARAGRAPH_BREAK.split(_CONTROL_CHARS.sub("", text).strip()):
        if events:
            events.append(("p", ""))
        # One line: a single newline means nothing in Markdown-light (no hard breaks).
        for token in _MD.parseInline(" ".join(paragraph.split())):
            for child in token.children or ():
                if child.type == "text":
                    events.append(("text", child.content))
                elif child.type in ("em_open", "strong_open"):
                    events.append((child.tag, ""))
                elif child.type in ("em_close", "strong_close"):
                    events.append(("/" + child.tag, ""))
                elif child.type == "link_open":
                    events.append(("a", str(child.attrGet("href") or "")))
                elif child.type == "link_close":
                    events.append(("/a", ""))
    return tuple(events)


def _paragraphs(text: str) -> Iterator[list[Event]]:
    paragraph: list[Event] = []
    for event in _events(text):
        if event[0] == "p":
            yield paragraph
            paragraph = []
        else:
            paragraph.append(event)
    if paragraph:
        yield paragraph


def _clean(html: str) -> str:
    return nh3.clean(
        html,
        tags=HTML_TAGS,
        attributes=HTML_ATTRIBUTES,
        url_schemes=LINK_SCHEMES,
        url_relative="deny",
        link_rel=None,
        strip_comments=True,
    )


@lru_cache(maxsize=8192)
def to_html(text: str) -> str:
    """Inline HTML (a, em, strong, escaped text), safe to mark `| safe` in a template;
    paragraphs, should a blurb have several, are joined by a line break."""
    return _clean("<br>".join(_html(p) for p in _paragraphs(text)))


@lru_cache(maxsize=1024)
def to_paragraphs_html(text: str) -> str:
    """Block HTML for the intro and the closing: one <p> of `to_html` per paragraph."""
    return _clean("".join(f"<p>{_html(p)}</p>" for p in _paragraphs(text)))


def _html(paragraph: list[Event]) -> str:
    out = []
    href = ""
    for kind, value in paragraph:
        if kind == "text":
            out.append(escape(value, quote=False))
        elif kind == "a":
            href = value
            out.append(f'<a href="{escape(value)}">')
        else:  # em, strong and their ends; "/a" is "</a>"
            if kind == "/a" and out[-1].startswith("<a "):
                out.append(escape(href, quote=False))  # [](url): show the URL, not nothing
            out.append(f"<{kind}>")
    return "".join(out)


def to_text(text: str, links: list[str]) -> str:
    """Plain text: emphasis dropped, each link written "title [n]" where `links[n - 1]` is
    its URL. A URL already in `links` keeps its number (the list is deduplicated), so a
    text part can list every link once at its end. Paragraphs are split by a blank line."""
    out: list[str] = []
    anchor_at = 0
    for kind, value in _events(text):
        if kind == "text":
            out.append(value)
        elif kind == "p":
            out.append("\n\n")
        elif kind == "a":
            href = value
            anchor_at = len(out)
        elif kind == "/a":
            label = "".join(out[anchor_at:]).strip()
            if not label:
                out.append(href)
            if href not in links:
                links.append(href)
            out.append(f" [{links.index(href) + 1}]")
    return "".join(out).strip()


def plain(text: str) -> str:
    """Plain text without link numbers (link titles kept, URLs left out)."""
    return "".join(v if k == "text" else "\n\n" if k == "p" else "" for k, v in _events(text))


def first_words(text: str, count: int) -> str:
    """The first `count` words of the text as plain text, "…" if cut, read by pattern
    rather than parsed (an archive lists every issue's): a link becomes its title and
    emphasis marks go. Not markup: escape it where it is shown."""
    words = _EMPHASIS_MARK.sub("", _LINK_PATTERN.sub(r"\1", text[: count * 40])).split()
    if len(words) <= count and len(text) <= count * 40:
        return " ".join(words)
    return " ".join(words[:count]).rstrip(",;:.-–—") + "…"


def links_of(text: str) -> list[str]:
    """Every link's href (as markdown-it normalizes it), in order."""
    return [value for kind, value in _events(text) if kind == "a"]


def to_markdown(text: str) -> str:
    """The text as Markdown another engine can render safely: text escaped (so raw HTML
    or a refused link stays text even where HTML is allowed), emphasis and vetted links
    written out again."""
    out: list[str] = []
    for kind, value in _events(text):
        if kind == "text":
            out.append(_escape_inline(value))
        elif kind == "p":
            out.append("\n\n")
        elif kind in ("em", "/em"):
            out.append("*")
        elif kind in ("strong", "/strong"):
            out.append("**")
        elif kind == "a":
            if out and out[-1].endswith("!"):  # "![" would make an image of the link
                out[-1] = out[-1][:-1] + "\\!"
            out.append("[")
            href = value.replace("(", "%28").replace(")", "%29")
        elif kind == "/a":
            if out[-1] == "[":
                out.append(_escape_inline(href))
            out.append(f"]({href})")
    # Each paragraph is one line, so its start is the only place a block can begin.
    return _LINE_START_SPECIAL.sub(_escape_line_start, "".join(out).strip())


def escape_markdown(text: str) -> str:
    """Plain text that Markdown (CommonMark or GFM, raw HTML allowed or not) shows as is."""
    return _LINE_START_SPECIAL.sub(_escape_line_start, _escape_inline(text))


def _escape_inline(text: str) -> str:
    """Escaped where it may start markup inside a line (a block needs a line's start)."""
    return _ENTITY_LIKE.sub(r"\\&", _MARKDOWN_SPECIAL.sub(r"\\\1", text))


def _escape_line_start(match: re.Match[str]) -> str:
    marker = match.group(2)  # "#", ">", "+", "-", or "1." / "1)": escape the punctuation
    return match.group(1) + marker[:-1] + "\\" + marker[-1]

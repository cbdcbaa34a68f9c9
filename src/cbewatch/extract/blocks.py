"""An extracted article as a list of blocks (paragraphs, headings, lists, quotes, tables),
and the rules one page alone can apply to them: the title and byline are not repeated at
the top, the author's bio is not at the end, and a pull quote (a paragraph that repeats
part of another) goes once.

Runs in a worker process. Each block keeps a key (a hash of its normalized words), so
the main process can learn which blocks recur across a site's pages and strip them
(`extract.boilerplate`) without parsing the page again.
"""

from __future__ import annotations

import hashlib
import html
import re
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from lxml.etree import tostring

from ..sanitize import clean_html, html_to_text
from ..sketches import BlockPart, block_parts

_HEADINGS = frozenset({"h1", "h2", "h3", "h4", "h5", "h6"})
_WORD = re.compile(r"\w+")
_ELLIPSIS = re.compile(r"…|\.\.\.|\[…\]|\[\.\.\.\]")
# "— Jane Doe, principal" after a quote: a dash, then a few words to the end.
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_DATE_WORDS = frozenset({
    "january", "february", "march", "april", "may", "june", "july", "august", "september",
    "october", "november", "december", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sep", "sept", "oct", "nov", "dec", "monday", "tuesday", "wednesday", "thursday",
    "friday", "saturday", "sunday", "posted", "published", "updated", "on", "at", "am", "pm",
    "min", "mins", "minute", "minutes", "read", "utc", "gmt", "et", "pt", "ct", "est", "edt",
    "pst", "pdt", "st", "nd", "rd", "th",
})  # fmt: skip
_QUOTE_MARKS = ('"', "“", "«", "„", "'", "‘")
_ATTRIBUTION = re.compile(r"\s[—–-]{1,2}\s*[^—–\s][^—–]{0,80}$")
TOP_BLOCKS = 4  # how far from the top a repeated title, byline or kicker is looked for
KICKER_WORDS = 4  # a label above the title ("Grading", "News · Policy") is this short
BYLINE_WORDS = 16
BIO_WORDS = 80  # an author box's few sentences
BOTTOM_BLOCKS = 4  # how far from the end an author's bio is looked for
PULL_QUOTE_MIN_WORDS = 6  # a shorter repeat may be an ordinary phrase
PULL_QUOTE_MAX_WORDS = 80  # a pull quote is a sentence or two, not a paragraph
PULL_QUOTE_CANDIDATES = 200  # bounds the work on a page of thousands of blocks


@dataclass(frozen=True)
class Block:
    """One top-level block of an article: sanitized HTML, its plain text, and the key of
    its normalized words (None when it has no words, such as a lone image)."""

    html: str
    text: str
    key: int | None
    kind: str = "p"  # the HTML tag, or "text" for loose text between blocks
    links_only: bool = False  # every word is a link's (a list of related links)
    # The key of a short label beside links ("Related:", "Share this story:"): a label
    # the site repeats makes the block its chrome, whatever the links are.
    label_key: int | None = None
    words: int = 0
    # Its share of dedup's sketch (`sketches.block_part`: words, shingles, MinHash), made
    # here where the text is: the main process only joins the kept blocks' shares.
    sketch_part: BlockPart | None = None


def normalized(text: str) -> str:
    """Case-folded words, one space apart: what counts as "the same text"."""
    return " ".join(_WORD.findall(text.casefold()))


def text_key(text: str) -> int | None:
    words = normalized(text)
    if not words:
        return None
    digest = hashlib.blake2b(words.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)  # fits SQLite's INTEGER


def split_blocks(body: Any, base_url: str) -> list[Block]:
    """The blocks of trafilatura's body once converted to HTML (`convert_to_html`):
    each child element, and any loose text between them, sanitized one by one."""
    blocks = []
    if body.text and body.text.strip():
        blocks.append(_text_block(body.text))
    for child in body:
        tag = child.tag if isinstance(child.tag, str) else ""
        if tag:
            fragment = clean_html(tostring(child, encoding="unicode", with_tail=False), base_url)
            text = html_to_text(fragment)
            if fragment:
                links_only, label = _links_and_label(child)
                blocks.append(
                    Block(fragment, text, text_key(text), tag, links_only, label, len(text.split()))
                )
        if child.tail and child.tail.strip():
            blocks.append(_text_block(child.tail))
    return blocks


def _text_block(text: str) -> Block:
    fragment = clean_html(html.escape(" ".join(text.split()), quote=False))
    plain = html_to_text(fragment)
    return Block(fragment, plain, text_key(plain), "text", words=len(plain.split()))


def _links_and_label(element: Any) -> tuple[bool, int | None]:
    """Whether every word of a block is a link's, and the key of the few words beside
    its links when they are only a short label ("Related:", "Filed under:")."""
    words = len(normalized(" ".join(element.itertext())).split())
    label = normalized(" ".join(element.xpath(".//text()[not(ancestor::a)]")))
    if not words or not label:
        return bool(words), None
    count = len(label.split())
    short = count <= KICKER_WORDS and count < words
    return False, text_key(label) if short else None


def joined(blocks: list[Block]) -> tuple[str, str]:
    """The article's (text, html) from its blocks."""
    return (
        "\n\n".join(b.text for b in blocks if b.text),
        "\n".join(b.html for b in blocks),
    )


def with_sketch_parts(blocks: list[Block]) -> list[Block]:
    """The page's blocks, as kept, each with its share of dedup's sketch."""
    parts = block_parts([b.text for b in blocks])
    return [replace(b, sketch_part=part) for b, part in zip(blocks, parts, strict=True)]


def sketch_parts(blocks: Iterable[Block]) -> list[BlockPart] | None:
    """What dedup sketches the text `joined` makes of `blocks` from (`sketches.
    sketch_blocks`); None when a block with text lacks its part (one made elsewhere)."""
    parts = [b.sketch_part for b in blocks if b.text]
    return None if None in parts else parts  # type: ignore[return-value]


# ---------------------------------------------------------------------------------------
# What one page says on its own.


def without_repeated_top(
    blocks: list[Block], title: str | None, author: str | None, standfirst: str | None = None
) -> list[Block]:
    """Drop the title, a byline, a dateline, a kicker label and the standfirst (the page's
    description set above its byline: `extract._standfirst`) where they open the text
    again: the item shows its title, author, date and description already. Only the
    first few blocks are looked at; the first that is none of these ends the search. A
    standfirst that is all the text there is stays."""
    title_words = normalized(title or "")
    author_words = normalized(author or "")
    standfirst_words = normalized(standfirst or "")
    top, standfirst_at = 0, None
    while top < min(TOP_BLOCKS, len(blocks)):
        words = normalized(blocks[top].text)
        if standfirst_words and words == standfirst_words:
            standfirst_at = top
        elif not (
            (title_words and words == title_words)
            or _is_byline(words, author_words)
            or _is_dateline(words)
            or _is_kicker(words, blocks[top + 1 : top + 3], title_words)
        ):
            break
        top += 1
    if top == len(blocks) and standfirst_at is not None:
        return blocks[standfirst_at : standfirst_at + 1]
    return blocks[top:]


def _is_byline(words: str, author_words: str) -> bool:
    count = len(words.split())
    if not words or count > BYLINE_WORDS:
        return False
    if words.startswith(("by ", "posted by ", "written by ")):
        return True
    # "Jane Doe | March 3, 2026": the author's name and little else.
    return bool(author_words) and author_words in words and count <= len(author_words.split()) + 6


def _is_dateline(words: str) -> bool:
    """ "Published October 2, 2026 · 5 min read": a date and nothing but date words."""
    tokens = words.split()
    if not tokens or len(tokens) > BYLINE_WORDS // 2 or not _YEAR.search(words):
        return False
    return all(t.isdigit() or t in _DATE_WORDS for t in tokens)


def _is_kicker(words: str, following: list[Block], title_words: str) -> bool:
    """A short label counts as a kicker only when the title comes right after it."""
    if not words or len(words.split()) > KICKER_WORDS or not title_words:
        return False
    return any(normalized(b.text) == title_words for b in following)


def without_author_bio(blocks: list[Block], author: str | None) -> list[Block]:
    """Drop an author box near the end: a short paragraph that opens with the author's
    full name ("Jane Doe covers …"), and a short label right above it ("About the
    writer"). Nothing is dropped when the page names no author of two words or more."""
    author_words = normalized(author or "")
    if len(author_words.split()) < 2:
        return blocks
    start = max(0, len(blocks) - BOTTOM_BLOCKS)
    for index in range(len(blocks) - 1, start - 1, -1):
        words = normalized(blocks[index].text)
        if words.startswith(author_words + " ") and len(words.split()) <= BIO_WORDS:
            label = index > 0 and len(normalized(blocks[index - 1].text).split()) <= KICKER_WORDS
            first = index - 1 if label else index
            return blocks[:first] + blocks[index + 1 :]
    return blocks


def without_pull_quotes(blocks: list[Block]) -> list[Block]:
    """Drop a short block whose words appear, in order, inside another kept block: a pull
    quote repeating the body (its attribution after a dash aside, and each part of it
    around an ellipsis found in that one block). Quotes are dropped before paragraphs,
    and of two equal blocks one stays, so the body keeps its copy."""
    texts = [f" {normalized(b.text)} " for b in blocks]
    quoted = {
        i: parts
        for i, block in enumerate(blocks[:PULL_QUOTE_CANDIDATES])
        if block.kind not in _HEADINGS and (parts := _quoted_parts(block))
    }
    order = sorted(quoted, key=lambda i: (blocks[i].kind != "blockquote", len(texts[i])))
    dropped: set[int] = set()
    for i in order:
        if any(
            j != i and j not in dropped and all(part in texts[j] for part in quoted[i])
            for j in range(len(blocks))
        ):
            dropped.add(i)
    return [b for i, b in enumerate(blocks) if i not in dropped]


def _quoted_parts(block: Block) -> list[str]:
    """The runs of words a pull quote would share with the body, each as " words ", or
    none when the block is too short or too long to be one."""
    words = " ".join(block.text.split())
    quote_like = block.kind == "blockquote" or words.startswith(_QUOTE_MARKS)
    attribution = _ATTRIBUTION.search(words) if quote_like else None
    if attribution and len(_WORD.findall(words[: attribution.start()])) >= PULL_QUOTE_MIN_WORDS:
        words = words[: attribution.start()]
    parts = [f" {n} " for piece in _ELLIPSIS.split(words) if (n := normalized(piece))]
    count = sum(part.count(" ") - 1 for part in parts)
    if not PULL_QUOTE_MIN_WORDS <= count <= PULL_QUOTE_MAX_WORDS:
        return []
    return parts

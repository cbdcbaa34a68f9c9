"""A past roundup read back in as a sent `Issue`, so a newsletter that existed before
cbewatch keeps its history: from a blog post's HTML (`roundup_html`) or its text. Pure:
no I/O, and nothing read leaves unsanitized. The reading rules: docs/importing.md.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from urllib.parse import quote, urlsplit

from markdown_it import MarkdownIt

from ..errors import IssueError
from ..model.types import Issue, IssueEntry, IssueSection
from ..sanitize import clean_title, plain_text
from ..urls import canonical_url

UNLINKED_PREFIX = "urn:cbewatch:import:"
_LINKS = MarkdownIt("zero")  # only for normalizeLink: the href a rendered link gets
LEAD_SECTION = "Highlights"  # bullets that come before any heading
UNLINKED_TITLE_MAX = 120
CLOSING_WORDS = re.compile(r"\b(subscrib\w*|sign(?:ing)?[ -]up|follow)\b", re.IGNORECASE)
_MONTH = re.compile(r"\d{4}-(0[1-9]|1[0-2])")
# Structural tags only: a text roundup may well quote "<b>" or a hostile "<script>".
_HTML_SIGNS = re.compile(
    r"<(?:!doctype|html|body|article|main|div|section|p|ul|ol|li|h[1-6]|a|br|table)\b[^<>]*>",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Piece:
    """A run of text, or a link (its text and absolute http(s) URL)."""

    text: str
    url: str | None = None


@dataclass
class Block:
    """What both readers produce: a heading (`name`), a bullet or a paragraph (`pieces`)."""

    kind: str  # "heading" | "bullet" | "para"
    pieces: list[Piece] = field(default_factory=list)
    name: str = ""

    @property
    def links(self) -> list[Piece]:
        return [p for p in self.pieces if p.url]

    @property
    def plain(self) -> str:
        return " ".join("".join(p.text for p in self.pieces).split())


def import_roundup(text_or_html: str, month: str, title_default: str) -> Issue:
    """The roundup in `text_or_html` (a blog post's HTML page, or its text) as the sent
    issue of `month`. Raises IssueError when it has no sections or items."""
    if not _MONTH.fullmatch(month):
        raise IssueError(f"{month!r} is not a month written as YYYY-MM")
    is_html = bool(_HTML_SIGNS.search(text_or_html))
    if is_html:
        # Imported here: roundup_html builds on this module's blocks (and bs4 and lxml
        # load only when a page comes in).
        from .roundup_html import html_blocks

        title, blocks = html_blocks(text_or_html)
    else:
        title, blocks = "", text_blocks(text_or_html)
    intro, sections, closing = assemble(blocks, month, para_entries=is_html)
    if not any(section.entries for section in sections):
        raise IssueError("The roundup has no sections or items that could be read.")
    return Issue(
        month=month,
        title=title or clean_title(title_default) or month,
        intro=intro,
        closing=closing,
        sections=tuple(sections),
        status="sent",
    )


def canonical_urls(issue: Issue) -> dict[str, str]:
    """Each linked entry's URL → its canonical URL, to find the items it came from.
    Entries without a link (UNLINKED_PREFIX keys) match no item and are left out."""
    return {
        entry.url: canonical_url(entry.url)
        for entry in issue.entries
        if not entry.url.startswith(UNLINKED_PREFIX)
    }


# -- assembly: blocks → intro, sections, closing -------------------------------------------


@dataclass
class _Section:
    name: str
    blocks: list[Block] = field(default_factory=list)
    entries: list[Block] = field(default_factory=list)  # one per entry, continuations merged
    loose: list[Block] = field(default_factory=list)  # paragraphs before its first entry


def assemble(
    blocks: list[Block], month: str, para_entries: bool
) -> tuple[str, list[IssueSection], str]:
    """The intro, the sections with entries, and the closing (rules: module docstring)."""
    end = _closing_start(blocks)
    closing_blocks = _closing_run(blocks, end)
    groups = [_Section(LEAD_SECTION)]
    for block in blocks[:end]:
        if block.kind == "heading":
            groups.append(_Section(block.name))
        else:
            groups[-1].blocks.append(block)
    for group in groups:
        # Paragraphs before any heading are the intro, even with links: never entries.
        _find_entries(group, para_entries and group is not groups[0])
    first = next((i for i, g in enumerate(groups) if g.entries), len(groups))
    # A section's own opening paragraphs have no place in an Issue: the first section's
    # are dropped, except for bullets before any heading, whose lead-in is the intro.
    intro_blocks = [b for g in groups[: max(first, 1)] for b in g.loose]
    intro = "\n\n".join(filter(None, (markdown(b.pieces) for b in intro_blocks)))
    closing = "\n\n".join(filter(None, (markdown(b.pieces) for b in closing_blocks)))
    return intro, _sections([g for g in groups if g.entries], month), closing


def _closing_start(blocks: list[Block]) -> int:
    """Where the closing starts: len(blocks) when there is none."""
    bullets = [i for i, b in enumerate(blocks) if b.kind == "bullet"]
    headings = [i for i, b in enumerate(blocks) if b.kind == "heading"]
    after = bullets[-1] if bullets else (headings[-1] if headings else len(blocks))
    for i in range(after + 1, len(blocks)):
        if blocks[i].kind == "para" and CLOSING_WORDS.search(blocks[i].plain):
            return i
    return len(blocks)


def _closing_run(blocks: list[Block], start: int) -> list[Block]:
    run: list[Block] = []
    for block in blocks[start:]:
        if block.kind != "para" or not CLOSING_WORDS.search(block.plain):
            break
        run.append(block)
    return run


def _find_entries(group: _Section, para_entries: bool) -> None:
    """Sort a section's blocks into entries, continuations and loose paragraphs."""
    last: Block | None = None  # the paragraph entry that unlinked blocks may continue
    for block in group.blocks:
        linked = bool(block.links)
        if last is not None and not linked:
            last.pieces += [Piece(" "), *block.pieces]
            continue
        if block.kind == "bullet" or (para_entries and linked):
            entry = Block(block.kind, list(block.pieces))
            group.entries.append(entry)
            last = entry if block.kind == "para" else None
        elif not group.entries:
            group.loose.append(block)
        # an unlinked paragraph after a list (a note, a bio) is not an entry of anything


def _sections(groups: list[_Section], month: str) -> list[IssueSection]:
    used: set[str] = set()
    sections = []
    position = 0
    for group in groups:
        entries = []
        for block in group.entries:
            position += 1
            entries.append(_entry(block, month, position, used))
        sections.append(IssueSection(group.name, tuple(entries)))
    return sections


def _entry(block: Block, month: str, position: int, used: set[str]) -> IssueEntry:
    links = [p for p in block.links if markdown_url(p.url or "") not in used]
    # Prefer the piece's own page over the organization's home page it may also link.
    chosen = next((p for p in links if not _is_home_page(p.url or "")), links[0] if links else None)
    if chosen and chosen.url:
        url = markdown_url(chosen.url)
    else:  # no link, or only links an earlier entry has: the URL must tell entries apart
        url = f"{UNLINKED_PREFIX}{month}:{position}"
    used.add(url)
    named = chosen or next(iter(block.links), None)  # a repeated link still names it
    title = clean_title(named.text) if named else ""
    return IssueEntry(
        url=url,
        title=title or _first_sentence(block.plain),
        organization=_organization(block, chosen),
        blurb=markdown(block.pieces),
    )


def _first_sentence(text: str) -> str:
    """The title of an entry without a link: its first sentence, cut on a word boundary
    (a title, not a second blurb)."""
    sentence = clean_title(re.split(r"(?<=[.!?])\s", text, maxsplit=1)[0])
    if len(sentence) <= UNLINKED_TITLE_MAX:
        return sentence
    return sentence[: UNLINKED_TITLE_MAX - 1].rsplit(" ", 1)[0].rstrip(" ,;:.-–—") + "…"


def _is_home_page(url: str) -> bool:
    parts = urlsplit(url)
    return parts.path in ("", "/") and not parts.query


# -- organization ------------------------------------------------------------------------

_NAME_WORD = r"[A-Z0-9][\w’'&.-]*"
_ORG_AFTER = re.compile(
    rf"(?i:\bfrom|\bby|\bpublished (?:on|in)|\breleased by)\s+(?:the\s+)?"
    rf"({_NAME_WORD}(?:\s+(?:(?:of|for|and|&)\s+)?{_NAME_WORD})*)"
)
# Capitalized words after "by" that are no name alone ("by The 74" is one), or start none.
_NOT_NAMES = {"The", "This", "That", "These", "A", "An", "In", "On", "Our", "Its", "Their"}
_NOT_FIRST = {
    "January", "February", "March", "April", "May", "June", "July", "August",
    "September", "October", "November", "December",
    "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday",
}  # fmt: skip


def _organization(block: Block, chosen: Piece | None) -> str:
    for piece in block.links:
        if _is_home_page(piece.url or "") and clean_title(piece.text):
            return clean_title(piece.text)
    # Only the text between links: a link's text is a title, and titles say "by" too.
    text = "".join(" | " if p.url else p.text for p in block.pieces)
    for match in _ORG_AFTER.finditer(text[:600]):
        name = match.group(1).rstrip(".")
        if name not in _NOT_NAMES and name.split()[0] not in _NOT_FIRST:
            return clean_title(name)
    link = chosen or next(iter(block.links), None)
    if link and link.url:
        return (urlsplit(link.url).hostname or "").removeprefix("www.")
    return ""


# -- Markdown-light --------------------------------------------------------------------------


def markdown(pieces: list[Piece]) -> str:
    """Pieces as one line of Markdown-light: plain text (tags, entities and control
    characters gone; brackets escaped) and links as [text](url)."""
    out = []
    for piece in pieces:
        # Cleaning trims a run; the space around it is what keeps it apart from its neighbours.
        if piece.text[:1].isspace():
            out.append(" ")
        if piece.url:
            text = clean_title(piece.text) or urlsplit(piece.url).hostname or piece.url
            out.append(f"[{_escape(text)}]({markdown_url(piece.url)})")
        else:
            # Entities decode and tags go, with a <script>'s content (as for titles).
            out.append(_escape(plain_text(piece.text)))
        if piece.text[-1:].isspace():
            out.append(" ")
    return re.sub(r"\s+([;,.:!?])(?=\s|$)", r"\1", " ".join("".join(out).split())).strip()


def markdown_url(url: str) -> str:
    """`url` as markdown-it renders a link's href (whitespace, quotes, angle brackets and
    non-ASCII percent-encoded, the host in punycode), with parentheses encoded too so it
    is safe inside (…). Entries keep this form, so an entry's URL and the same link in
    its blurb are one string to the link check."""
    return re.sub(r"[()]", lambda m: quote(m.group()), _LINKS.normalizeLink(url.strip()))


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("[", "\\[").replace("]", "\\]")


# -- the text form -----------------------------------------------------------------------------

_BULLET = re.compile(r"^\s*[•\-*·–]\s+(?=\S)")
_ATX_HEADING = re.compile(r"^\s{0,3}#{1,6}\s+(.+?)\s*#*\s*$")
_UNDERLINE = re.compile(r"^\s*([=\-~_])\1{2,}\s*$")
_REFERENCE = re.compile(r"^\s*\[(\d{1,3})\]:?\s+(https?://\S+)\s*$")
_HEADING_MAX = 100
_LABEL_MAX = 60
_TEXT_LINK = re.compile(
    r"\[(?P<md_text>[^\[\]]*)\]\((?P<md_url>https?://(?:[^\s()]|\([^\s()]*\))+)\)"
    r"|\[(?P<other_text>[^\[\]]*)\]\((?:[^\s()]|\([^\s()]*\))*\)"  # other schemes: text only
    r"|\[(?P<ref>\d{1,3})\]"
    r"|\((?P<paren>https?://(?:[^\s()]|\([^\s()]*\))+)\)"
    r"|<(?P<angle>https?://[^\s<>]+)>"
    r"|(?P<bare>https?://[^\s<>\[\]]+)"
)
# The clause a bare URL or [n] marker links: what follows the last clause boundary.
_CLAUSE_HEAD = re.compile(r".*(?:[.!?;:,(]\s+|\s[—–-]\s+|[(])", re.DOTALL)
# "from the Cedar Foundation [6]": the link is the name, not the words that lead to it.
_LEADING_WORDS = re.compile(r"(?:(?:from|by|at|via|on|in)\s+(?:the\s+)?)?", re.IGNORECASE)


def text_blocks(text: str) -> list[Block]:
    """Blocks of a roundup's text. A bullet starts with •, -, *, · or –, and lines right
    after it continue it; a paragraph of one short line (at most 100 characters, not
    ending in . : ; or ,) is a heading, as are "## …" and underlined lines; `[n] URL`
    lines anywhere are the references of `[n]` markers and are not text."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    refs: dict[str, str] = {}
    kept = []
    for line in lines:
        found = _REFERENCE.match(line)
        if found:
            refs.setdefault(found[1], found[2])
        else:
            # A line without a letter or digit (a rule, "* * *") separates like a blank one.
            kept.append(line if re.search(r"\w", line) or _UNDERLINE.match(line) else "")
    blocks: list[Block] = []
    para: list[str] = []
    bullet: list[str] | None = None

    def flush() -> None:
        nonlocal bullet
        if bullet is not None:
            blocks.append(Block("bullet", text_pieces(" ".join(bullet), refs)))
            bullet = None
        if para:
            joined = " ".join(s.strip() for s in para)
            if len(para) == 1 and _looks_like_heading(joined):
                blocks.append(Block("heading", name=clean_title(joined)))
            elif all(len(s.strip()) <= _LABEL_MAX and _looks_like_heading(s.strip()) for s in para):
                # Short lines with no sentence in them ("Skip to content", a site's name):
                # a page's chrome, or headings; never one paragraph.
                blocks.extend(Block("heading", name=clean_title(s)) for s in para)
            else:
                blocks.append(Block("para", text_pieces(joined, refs)))
            para.clear()

    for line in kept:
        heading = _ATX_HEADING.match(line)
        if not line.strip():
            flush()
        elif heading:
            flush()
            blocks.append(Block("heading", name=clean_title(heading[1])))
        elif _UNDERLINE.match(line):
            if len(para) == 1 and bullet is None:  # a setext heading's underline
                blocks.append(Block("heading", name=clean_title(para.pop())))
            flush()
        elif _BULLET.match(line):
            flush()
            bullet = [_BULLET.sub("", line)]
        elif bullet is not None:
            bullet.append(line.strip())  # a wrapped line continues its bullet
        else:
            para.append(line)
    flush()
    return [b for b in blocks if b.kind != "heading" or b.name]


def _looks_like_heading(line: str) -> bool:
    return (
        len(line) <= _HEADING_MAX
        and not line.endswith((".", ":", ";", ","))
        and not re.search(r"https?://|\[\d{1,3}\]", line)
    )


def text_pieces(text: str, refs: dict[str, str]) -> list[Piece]:
    """A line of roundup text as pieces: Markdown links kept; a bare URL or an [n] marker
    links the clause right before it (what follows the last comma, colon, dash or
    sentence end, less a leading "from", "by", "the"…)."""
    pieces: list[Piece] = []
    pending = ""  # text since the last link
    at = 0
    for match in _TEXT_LINK.finditer(text):
        pending += text[at : match.start()]
        at = match.end()
        if match["md_url"]:
            pieces += [Piece(pending), Piece(match["md_text"], match["md_url"])]
            pending = ""
            continue
        if match["other_text"] is not None:
            pending += match["other_text"]
            continue
        url = _marker_url(match, refs)
        if url is None:
            pending += match.group()
            continue
        if match["bare"]:
            url, trailing = _trim_url(url)
            at -= len(trailing)
        head, clause = _split_clause(pending)
        pieces += [Piece(head), Piece(clause or (urlsplit(url).hostname or url), url)]
        pending = ""
    pieces.append(Piece(pending + text[at:]))
    return [p for p in pieces if p.text or p.url]


def _marker_url(match: re.Match[str], refs: dict[str, str]) -> str | None:
    if match["ref"]:
        return refs.get(match["ref"])
    return match["paren"] or match["angle"] or match["bare"]


def _trim_url(url: str) -> tuple[str, str]:
    """A bare URL without the punctuation that ends its sentence: (url, what was cut)."""
    kept = url.rstrip(".,;:!?'\"’”")
    while kept.endswith(")") and kept.count(")") > kept.count("("):
        kept = kept[:-1].rstrip(".,;:!?'\"’”")
    return kept, url[len(kept) :]


def _split_clause(pending: str) -> tuple[str, str]:
    """(the text before the link, the clause the link gets as its text). A colon or dash
    between the clause and the URL ("Read more: https://…") goes."""
    trimmed = pending.rstrip().rstrip(":—–-").rstrip()
    head = _CLAUSE_HEAD.match(trimmed)
    cut = head.end() if head else 0
    lead = _LEADING_WORDS.match(trimmed, cut)
    if lead and lead.end() < len(trimmed):
        cut = lead.end()
    return trimmed[:cut], trimmed[cut:].strip()

"""The checks an issue gets before approval, each problem one plain sentence: an email too
big for Gmail, images without alt text, no unsubscribe link, empty sections, blurbs
nobody wrote, blurbs over three sentences, links that will not be links. Pure: it reads
the issue and its rendered email, and never changes either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from html.parser import HTMLParser

from ..model.types import Issue, IssueEntry
from . import blurbs
from .render import UNSUBSCRIBE_PLACEHOLDER

MAX_EMAIL_BYTES = 90 * 1024  # Gmail clips a message at about 102 KB; leave room for headers
MAX_SENTENCES = 3

# Words that end with a period without ending a sentence (lower case, without the period).
ABBREVIATIONS = {
    "e.g", "i.e", "vs", "cf", "al", "approx", "dr", "mr", "mrs", "ms", "prof",
    "st", "sr", "jr", "no", "vol", "pp", "p", "fig", "inc", "co", "corp", "ltd", "dept",
    "gov", "sen", "rep", "ave", "jan", "feb", "mar", "apr", "jun", "jul", "aug", "sep",
    "sept", "oct", "nov", "dec", "u.s", "u.k", "ph.d", "ed.d", "a.m", "p.m",
}  # fmt: skip
# A candidate end: terminal punctuation (and closing quotes or brackets), then space and
# what may start a sentence, or the end of the text.
_END = re.compile(r"[.!?]+[\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9]|\s*$)")
_WORD_BEFORE = re.compile(r"([\w.]+)$")
_INITIALS = re.compile(r"[a-z](?:\.[a-z])*")  # "J" of "J. Smith", "u.s" of "U.S."
_MARKDOWN_LINK = re.compile(r"\]\(\s*<?((?:[^()\s<>]|\([^()\s]*\))*)")  # one level of (…)


@dataclass(frozen=True)
class Problem:
    """One problem: `kind` for code, `message` for people, `url` the entry it is about."""

    kind: (
        str  # size | image_alt | unsubscribe | empty_section | placeholder | long_blurb | bad_link
    )
    message: str
    url: str | None = None

    def __str__(self) -> str:
        return self.message


def lint(issue: Issue, email_html: str) -> list[Problem]:
    """Every problem of `issue` and its rendered email (rendered with the placeholder
    unsubscribe URL), email-wide ones first, then by section and entry."""
    problems = []
    size = len(email_html.encode("utf-8"))
    if size > MAX_EMAIL_BYTES:
        problems.append(Problem("size", (
            f"The email weighs {size / 1024:.0f} KB, over the 90 KB limit: Gmail cuts "
            "messages off at about 102 KB, so remove items or shorten blurbs."
        )))  # fmt: skip
    missing_alt = _images_without_alt(email_html)
    if missing_alt:
        problems.append(Problem("image_alt", (
            f"{_count(missing_alt, 'image')} in the email {_has(missing_alt)} no alt text: "
            f"{', '.join(missing_alt[:3])}."
        )))  # fmt: skip
    if UNSUBSCRIBE_PLACEHOLDER not in email_html:
        problems.append(Problem("unsubscribe", (
            f"The email has no unsubscribe link ({UNSUBSCRIBE_PLACEHOLDER}): the template "
            "email.html must keep it, or the issue cannot be sent."
        )))  # fmt: skip
    for section in issue.sections:
        if not section.entries:
            problems.append(Problem("empty_section", (
                f"The section “{section.name}” has no items, so it will not appear in the "
                "email or on the web."
            )))  # fmt: skip
        for entry in section.entries:
            problems.extend(_entry_problems(entry))
    return problems


def _entry_problems(entry: IssueEntry) -> list[Problem]:
    problems = []
    name = f"“{entry.title}” ({entry.organization})"
    if entry.placeholder:
        problems.append(
            Problem("placeholder", f"{name} still has the placeholder blurb.", entry.url)
        )
    else:
        sentences = count_sentences(blurbs.plain(entry.blurb))
        if sentences > MAX_SENTENCES:
            problems.append(Problem("long_blurb", (
                f"The blurb of {name} has {sentences} sentences; keep it to "
                f"{MAX_SENTENCES} at most."
            ), entry.url))  # fmt: skip
    bad = [url for url in _written_links(entry.blurb) if not blurbs.valid_link(url)]
    if bad:
        problems.append(Problem("bad_link", (
            f"The blurb of {name} has a link that will show as plain text: {bad[0] or '()'} "
            "(a link needs a full http://, https:// or mailto: address)."
        ), entry.url))  # fmt: skip
    return problems


def count_sentences(text: str) -> int:
    """Sentences in plain text: ends are ., ! or ? before a capital, a digit or the end,
    unless the word before is an abbreviation ("e.g.", "U.S.", "Dr.") or an initial."""
    text = " ".join(text.split())
    if not text:
        return 0
    count = 0
    last_end = 0
    for match in _END.finditer(text):
        if match.group().startswith(".") and _abbreviated(text[: match.start()]):
            continue
        count += 1
        last_end = match.end()
    return count + (1 if text[last_end:].strip(" \"'”’)]") else 0)


def _abbreviated(before: str) -> bool:
    word = _WORD_BEFORE.search(before)
    if not word:
        return False
    token = word.group(1).lower().lstrip(".")
    # "J. Smith", "U.S.": a single letter, or letters split by dots, never end a sentence.
    return token in ABBREVIATIONS or bool(_INITIALS.fullmatch(token))


def _written_links(blurb: str) -> list[str]:
    """What the curator wrote as link targets, `[text](target)`, whether or not valid."""
    return [m.group(1) for m in _MARKDOWN_LINK.finditer(blurb)]


def _images_without_alt(html: str) -> list[str]:
    finder = _ImageFinder()
    finder.feed(html)
    finder.close()
    return finder.missing


class _ImageFinder(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.missing: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "img" and values.get("alt") is None:
            self.missing.append(values.get("src") or "an image without src")


def _count(items: list, noun: str) -> str:
    return f"1 {noun}" if len(items) == 1 else f"{len(items)} {noun}s"


def _has(items: list) -> str:
    return "has" if len(items) == 1 else "have"

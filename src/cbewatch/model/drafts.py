"""A blurb draft for every item, in the newsletter's voice, from what extraction found:
the kind of piece, the organization, the title, and the lead (the description, else the
text) cut to whole sentences. Pure: the same item always gives the same draft, and the
draft is plain text (markup in a title or a description never reaches it).

    A new brief from Alder Institute: "Learner Profiles in Practice." It follows three
    districts through their first year of …
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache

from ..sanitize import plain_text
from .sentences import sentence_ends

MAX_WORDS = 60
LEAD_CHARS = 1500  # the part of a lead that can hold its first sentences
KIND_CHARS = 400  # the part of a lead that may name its own kind ("This brief …")
# Every queue page drafts fifty items, again at each reload: the same item's draft is
# remembered (the functions are pure, their arguments short strings).
DRAFTS_KEPT = 4096
KINDS = (
    "report", "brief", "toolkit", "guide", "webinar", "podcast", "case study", "article",
    "blog post",
)  # fmt: skip

# The first cue that matches wins: the title's words, then the URL, then the lead.
_CUES: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("podcast", r"\bpodcast\b|\bepisode\b"),
        ("webinar", r"\bwebinars?\b|\bwebcast\b|\blive session\b"),
        ("case study", r"\bcase stud(y|ies)\b"),
        ("toolkit", r"\btool ?kits?\b"),
        ("guide", r"\bguide(book)?s?\b|\bplaybook\b|\bhandbook\b|\bhow to\b"),
        ("brief", r"\b(policy |issue |research )?briefs?\b"),
        ("report", r"\breports?\b|\bwhite paper\b|\bstudy\b|\bsurvey\b|\bfindings\b"),
    )
)
_URL_CUES = (("podcast", "/podcast"), ("webinar", "/webinar"), ("report", ".pdf"),
             ("blog post", "/blog"))  # fmt: skip
_SELF_NAMED = re.compile(
    r"\b(?:this|our|the new|a new)\s+(report|brief|toolkit|guide|webinar|podcast|"
    r"case study|white paper|playbook)\b",
    re.IGNORECASE,
)
_KIND_WORDS = {"white paper": "report", "playbook": "guide"} | {k: k for k in KINDS}
_OPENERS = {
    "report": "A new report from {org}",
    "brief": "A new brief from {org}",
    "toolkit": "A new toolkit from {org}",
    "guide": "A new guide from {org}",
    "webinar": "A webinar from {org}",
    "podcast": "A podcast episode from {org}",
    "case study": "A case study from {org}",
    "article": "From {org}",
    "blog post": "On {org}'s blog",
}
# Sentences that belong to the page, not to the piece.
_BOILERPLATE = re.compile(
    r"\b(cookies?|subscribe|sign up|newsletter|click here|read more|all rights reserved|"
    r"javascript|share this|follow us|privacy policy|terms of use|log ?in)\b",
    re.IGNORECASE,
)


@lru_cache(maxsize=DRAFTS_KEPT)
def kind_of(title: str, url: str, lead: str = "") -> str:
    """The kind of piece (one of KINDS): cues in the title, then the URL, then a lead
    that names itself ("This brief …")."""
    for kind, cue in _CUES:
        if cue.search(title):
            return kind
    path = url.lower()
    for kind, needle in _URL_CUES:
        if needle in path:
            return kind
    named = _SELF_NAMED.search(lead[:KIND_CHARS])
    return _KIND_WORDS.get(named.group(1).lower(), "report") if named else "article"


@lru_cache(maxsize=DRAFTS_KEPT)
def blurb_draft(kind: str, organization: str, title: str, lead: str) -> str:
    """`opener: "title."` then the lead's first whole sentences, at most MAX_WORDS words
    in all; plain text."""
    org = _plain(organization) or "an organization in the field"
    name = _plain(title)
    if name.isupper() and len(name) > 3:
        name = name.title()
    opener = _OPENERS.get(kind, _OPENERS["article"]).format(org=org)
    if not name:
        first = f"{opener}."
    else:  # the sentence's full stop inside the quotes, unless the title ends its own
        first = f"{opener}: “{name}”" if name[-1] in "?!." else f"{opener}: “{name}.”"
    words = len(first.split())
    kept: list[str] = []
    for sentence in sentences(lead):
        size = len(sentence.split())
        if words + size > MAX_WORDS:
            break
        kept.append(sentence)
        words += size
        if len(kept) == 2:
            break
    return " ".join([first, *kept])


def sentences(text: str) -> Iterator[str]:
    """The whole sentences of a plain text, leaving out the page's own (sign-up boxes,
    cookie notes) and fragments of fewer than four words; lazily, from the start of the
    text (a draft needs two, and every queue page drafts fifty)."""
    plain = _plain(text[:LEAD_CHARS])
    start = 0
    for end in [*sentence_ends(plain), len(plain)]:
        part, start = plain[start:end].strip(), end
        if not part or part[-1] not in '.!?。！？"”’)…':  # cut off mid-sentence
            continue
        if len(part.split()) < 4 or _BOILERPLATE.search(part):
            continue
        yield part


def _plain(text: str | None) -> str:
    return " ".join(plain_text(text or "").split())

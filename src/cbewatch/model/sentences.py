"""Where sentences end in plain text, one rule for every reader of it (the snippet, the
blurb draft): a period, "!", "?" or "…" (and any closing quotes) before a capital or a
digit, unless the period ends an abbreviation or an initial. Pure."""

from __future__ import annotations

import re

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*(?=\s+[\"'“‘(\[]?[A-Z0-9])")
# Words a period ends that seldom end a sentence: titles, "e.g.", initials ("J.", "U.S").
_NOT_AN_END = re.compile(
    r"(?:\b(?:Mr|Mrs|Ms|Dr|Prof|St|Jr|Sr|Inc|Co|Corp|Ltd|vs|etc|No|Vol|Fig|Gov|Sen|Rep|"
    r"Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec|e\.g|i\.e)|\b[A-Z](?:\.[A-Z])*)\.$"
)


def sentence_ends(text: str) -> list[int]:
    """Where the sentences of a plain text end (just past their closing punctuation and
    quotes), leaving out the periods of abbreviations and initials; the text's own end
    is not listed."""
    return [m.end() for m in _SENTENCE_END.finditer(text) if _ends_sentence(text, m.start())]


def _ends_sentence(text: str, dot: int) -> bool:
    return text[dot] != "." or not _NOT_AN_END.search(text[max(0, dot - 12) : dot + 1])

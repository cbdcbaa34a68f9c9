"""Blurb drafts and the kind of piece: a pure function, tested as a table (the drafts
below were written by hand from the rules, not copied from output)."""

from __future__ import annotations

import pytest

from cbewatch.model.drafts import MAX_WORDS, blurb_draft, kind_of, sentences
from cbewatch.model.types import Item


@pytest.mark.parametrize(
    ("title", "url", "lead", "kind"),
    [
        ("Mastery in Motion: A Policy Brief", "https://a.org/x", "", "brief"),
        ("State of the Field 2026 Report", "https://a.org/x", "", "report"),
        ("Episode 12: Teachers on retakes", "https://a.org/x", "", "podcast"),
        ("Join our webinar on learner profiles", "https://a.org/x", "", "webinar"),
        ("A Case Study of Rivertown's Capstones", "https://a.org/x", "", "case study"),
        ("The Portrait of a Graduate Toolkit", "https://a.org/x", "", "toolkit"),
        ("How to start standards-based grading", "https://a.org/x", "", "guide"),
        ("Beyond seat time", "https://a.org/files/beyond.pdf", "", "report"),
        ("Notes from our spring visits", "https://a.org/blog/spring", "", "blog post"),
        ("Districts try flexible credit", "https://a.org/news/1", "This brief asks why.", "brief"),
        ("Districts try flexible credit", "https://a.org/news/1", "Districts tried it.", "article"),
    ],
)
def test_kind_of(title: str, url: str, lead: str, kind: str) -> None:
    assert kind_of(title, url, lead) == kind


@pytest.mark.parametrize(
    ("kind", "org", "title", "lead", "draft"),
    [
        (
            "brief",
            "Alder Institute",
            "Learner Profiles in Practice",
            "This brief follows three districts through a first year. Students set their own "
            "goals more often. A third sentence is never used.",
            "A new brief from Alder Institute: “Learner Profiles in Practice.” This brief "
            "follows three districts through a first year. Students set their own goals "
            "more often.",
        ),
        (  # markup in the title and the lead never reaches the draft
            "article",
            "Elm <b>Center</b>",
            '<img src=x onerror="alert(1)">Why credit <em>flexibility</em>?',
            "<p>Credit rules changed in <a href='https://x'>four states</a> this fall.</p>",
            "From Elm Center: “Why credit flexibility?” Credit rules changed in four states "
            "this fall.",
        ),
        (  # no description or text: the opener alone
            "report",
            "Cedar Foundation",
            "Grant Awards 2026",
            "",
            "A new report from Cedar Foundation: “Grant Awards 2026.”",
        ),
        (  # an all-caps title is set in title case; a sign-up line is not the piece's
            "webinar",
            "Bramble",
            "GRADING FOR GROWTH",
            "Subscribe to our newsletter for more events like this one. Teachers share how "
            "they moved to rubrics in one year.",
            "A webinar from Bramble: “Grading For Growth.” Teachers share how they moved to "
            "rubrics in one year.",
        ),
        (  # a page in another language keeps its own sentences
            "article",
            "Fundación Roble",
            "Aprendizaje por competencias en Chile",
            "Tres liceos cambiaron sus notas por rúbricas este año. Los estudiantes "
            "presentan evidencias de cada competencia.",
            "From Fundación Roble: “Aprendizaje por competencias en Chile.” Tres liceos "
            "cambiaron sus notas por rúbricas este año. Los estudiantes presentan evidencias "
            "de cada competencia.",
        ),
        (  # a lead cut off mid-sentence: only its whole sentences
            "guide",
            "Dogwood",
            "Planning Units",
            "Start with the outcome you want. Then write the tasks that would show it and",
            "A new guide from Dogwood: “Planning Units.” Start with the outcome you want.",
        ),
    ],
)
def test_blurb_draft(kind: str, org: str, title: str, lead: str, draft: str) -> None:
    assert blurb_draft(kind, org, title, lead) == draft


def test_a_draft_stays_within_sixty_words_and_whole_sentences() -> None:
    long_sentence = " ".join(["word"] * 55) + "."
    draft = blurb_draft("report", "Alder Institute", "A Long Read", f"{long_sentence} " * 3)
    # the opener is 8 words, and 55 more would pass 60
    assert draft == "A new report from Alder Institute: “A Long Read.”"
    two = blurb_draft("report", "Alder", "T", "One two three four five. " * 10)
    assert len(two.split()) <= MAX_WORDS and two.endswith("five.") and two.count("five.") == 2


def test_sentences_drop_fragments_and_the_pages_own_lines() -> None:
    text = "Read more. We accept cookies on this site. The study covers 40 schools. Yes!"
    assert list(sentences(text)) == ["The study covers 40 schools."]


def test_an_item_carries_its_kind_and_draft_in_json() -> None:
    item = Item(
        id=1,
        url="https://alder.example.org/p/1",
        canonical_url="https://alder.example.org/p/1",
        source="Alder Institute",
        status="new",
        first_seen="2026-11-02T00:00:00Z",
        title="The Capstone Toolkit",
        summary_text="Twelve templates for capstone defenses, with rubrics.",
    )
    shown = item.to_json()
    assert shown["kind"] == "toolkit"
    assert shown["blurb_draft"] == (
        "A new toolkit from Alder Institute: “The Capstone Toolkit.” Twelve templates for "
        "capstone defenses, with rubrics."
    )


def test_a_long_lead_drafts_as_its_start_and_the_draft_is_remembered() -> None:
    """The queue drafts every item it shows, at every reload: only the lead's start is
    read (and hashed), and the same item's draft is computed once."""
    lead = "Twelve templates for capstone defenses, with rubrics. " + "More words here. " * 5000
    item = Item(
        id=1,
        url="https://alder.example.org/p/1",
        canonical_url="https://alder.example.org/p/1",
        source="Alder Institute",
        status="new",
        first_seen="2026-11-02T00:00:00Z",
        title="The Capstone Toolkit",
        text=lead,
    )
    assert item.blurb_draft == blurb_draft("toolkit", "Alder Institute", "The Capstone Toolkit",
                                           lead)  # fmt: skip
    before = blurb_draft.cache_info().hits
    again = Item(**{**item.__dict__})  # the same item read again for the next page
    assert again.blurb_draft == item.blurb_draft
    assert blurb_draft.cache_info().hits == before + 2

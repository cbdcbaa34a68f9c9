"""The checks before approval (newsletter/lint.py) as tables: sentences counted with
abbreviations in mind, and one plain sentence per problem."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from cbewatch.config import Settings
from cbewatch.model.types import Issue, IssueEntry, IssueSection
from cbewatch.newsletter.lint import count_sentences, lint
from cbewatch.newsletter.render import UNSUBSCRIBE_PLACEHOLDER, Renderer

from .issue_samples import CEDAR, sample_issue

SENTENCES = [
    ("", 0),
    ("One short line without a stop", 1),
    ("One. Two. Three.", 3),
    ("Is it working? Yes! Mostly.", 3),
    ("Dr. Ruiz found gains, e.g. in Ohio. It held up.", 2),
    ("Schools across the U.S. Department of Education's list joined. Two more did.", 2),
    ("See the study (i.e. the 2025 one). Then the brief.", 2),
    ("Version 2.5 of the rubric is out.", 1),
    ("J. K. Okafor leads the work. She says so.", 2),
    ("“Mastery first.” That is the motto.", 2),
    ("Rubrics, portfolios, etc. Then a fourth sentence.", 2),
    ("It starts Jan. 5 in six districts.", 1),
    ("Wait... What? 3 schools joined.", 3),
    ("A. B. C. D.", 1),  # initials are never ends: one sentence
    ("The Lab (pp. 4–6) explains. It also lists schools. Then data. Then more.", 4),
]


@pytest.mark.parametrize(("text", "count"), SENTENCES)
def test_count_sentences(text: str, count: int) -> None:
    assert count_sentences(text) == count


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    return Renderer(Settings(path=tmp_path / "sources.yaml", data_dir=tmp_path / "var"))


def one_entry(blurb: str, placeholder: bool = False) -> Issue:
    entry = IssueEntry(
        "https://lab.example.org/brief", "Retakes Brief", "Northfield Lab", blurb, 1, placeholder
    )
    return Issue("2026-11", "November", sections=(IssueSection("Grading", (entry,)),))


def test_the_sample_issue(renderer: Renderer) -> None:
    issue = sample_issue()
    problems = lint(issue, renderer.email_html(issue))
    assert [(p.kind, str(p)) for p in problems] == [
        (
            "placeholder",
            "“Four Ways to Report Mastery” (Cedar Valley Foundation) still has the "
            "placeholder blurb.",
        ),
        (
            "empty_section",
            "The section “Equity” has no items, so it will not appear in the email or on the web.",
        ),
        (
            "bad_link",
            "The blurb of “Unit Planning Kit” (Prairie Teachers Guild) has a link that will "
            "show as plain text: javascript:alert(1) (a link needs a full http://, https:// "
            "or mailto: address).",
        ),
    ]
    assert problems[0].url == CEDAR


BLURBS = [
    ("The Lab's brief makes the case for retakes. It is short.", []),
    ("One. Two. Three. Four.", ["long_blurb"]),
    ("Dr. Lee, e.g. in the U.S. Midwest, saw gains. Then more. And more.", []),
    ("Read [the brief](www.example.org/brief).", ["bad_link"]),
    ("Read [the brief](/brief). One. Two. Three.", ["long_blurb", "bad_link"]),
    ("Read [the brief](https://example.org/brief).", []),
]


@pytest.mark.parametrize(("blurb", "kinds"), BLURBS)
def test_blurb_problems(renderer: Renderer, blurb: str, kinds: list[str]) -> None:
    issue = one_entry(blurb)
    assert [p.kind for p in lint(issue, renderer.email_html(issue))] == kinds


def test_long_blurb_message(renderer: Renderer) -> None:
    issue = one_entry("One. Two. Three. Four.")
    (problem,) = lint(issue, renderer.email_html(issue))
    assert problem.message == (
        "The blurb of “Retakes Brief” (Northfield Lab) has 4 sentences; keep it to 3 at most."
    )
    assert problem.url == "https://lab.example.org/brief"


def test_a_placeholder_is_not_also_counted(renderer: Renderer) -> None:
    issue = one_entry("Write a blurb. For this. Item. Please.", placeholder=True)
    assert [p.kind for p in lint(issue, renderer.email_html(issue))] == ["placeholder"]


EMAILS = [
    ("<p>fine</p>" + UNSUBSCRIBE_PLACEHOLDER, []),
    ("<p>no way out</p>", ["unsubscribe"]),
    (f'<img src="logo.png" alt="Logo"><img src="x.gif" alt="">{UNSUBSCRIBE_PLACEHOLDER}', []),
    (f'<img src="logo.png"><IMG SRC="b.png">{UNSUBSCRIBE_PLACEHOLDER}', ["image_alt"]),
    ("x" * (90 * 1024) + UNSUBSCRIBE_PLACEHOLDER, ["size"]),
    ("x" * (88 * 1024) + UNSUBSCRIBE_PLACEHOLDER, []),
]


@pytest.mark.parametrize(("email", "kinds"), EMAILS)
def test_email_problems(email: str, kinds: list[str]) -> None:
    issue = one_entry("A fine blurb.")
    assert [p.kind for p in lint(issue, email)] == kinds


def test_email_messages() -> None:
    issue = replace(one_entry("Fine."), sections=())
    problems = lint(issue, '<img src="logo.png"><img src="b.png">' + "é" * 50_000)
    assert [str(p) for p in problems] == [
        "The email weighs 98 KB, over the 90 KB limit: Gmail cuts messages off at about "
        "102 KB, so remove items or shorten blurbs.",
        "2 images in the email have no alt text: logo.png, b.png.",
        "The email has no unsubscribe link (%%unsubscribe_url%%): the template email.html "
        "must keep it, or the issue cannot be sent.",
    ]

"""A past roundup read back in: the golden pair (one page, its text, one expected issue),
the text form's link and bullet rules, the HTML reader's chrome and content rules, and
what the importer refuses. Expected values are written by hand from the fixtures."""

from __future__ import annotations

import json
import re
from dataclasses import asdict

import pytest

from cbewatch.errors import IssueError
from cbewatch.model.types import Issue
from cbewatch.newsletter.importer import (
    LEAD_SECTION,
    UNLINKED_PREFIX,
    Piece,
    canonical_urls,
    import_roundup,
    markdown,
    text_pieces,
)
from cbewatch.newsletter.links import links_of
from tests.conftest import FIXTURES

ROUNDUPS = FIXTURES / "roundups"
MARCH_TITLE = "What’s New in K-12 Competency Education: March 2026"


def expected(name: str) -> dict:
    return json.loads((ROUNDUPS / f"{name}.expected.json").read_text())


def as_expected(issue: Issue) -> dict:
    """The issue in the expected file's shape (what the importer decides, nothing else)."""
    keep = ("url", "title", "organization", "blurb")
    return {
        "month": issue.month,
        "status": issue.status,
        "title": issue.title,
        "intro": issue.intro,
        "closing": issue.closing,
        "sections": [
            {"name": s.name, "entries": [{k: asdict(e)[k] for k in keep} for e in s.entries]}
            for s in issue.sections
        ],
    }


def sections_of(issue: Issue) -> dict[str, list[str]]:
    return {s.name: [e.title for e in s.entries] for s in issue.sections}


# -- the golden pair -------------------------------------------------------------------------


def test_the_html_page_reads_as_the_expected_issue() -> None:
    html = (ROUNDUPS / "march-2026.html").read_text()
    issue = import_roundup(html, "2026-03", "A default nobody should see")
    assert as_expected(issue) == expected("march-2026")
    assert (issue.revision, issue.item_ids) == (1, set())


def test_the_text_version_reads_as_the_same_issue() -> None:
    text = (ROUNDUPS / "march-2026.txt").read_text()
    # Text has no reliable title line: the caller's default is the title.
    assert as_expected(import_roundup(text, "2026-03", MARCH_TITLE)) == expected("march-2026")


@pytest.mark.parametrize("name", ["march-2026.html", "march-2026.txt"])
def test_nothing_executable_or_chrome_survives(name: str) -> None:
    issue = import_roundup((ROUNDUPS / name).read_text(), "2026-03", MARCH_TITLE)
    texts = [issue.title, issue.intro, issue.closing]
    texts += [v for e in issue.entries for v in (e.url, e.title, e.organization, e.blurb)]
    for text in texts:
        assert not re.search(r"<\s*/?\s*[a-z]", text, re.IGNORECASE), text
        for bad in ("javascript:", "onerror", "alert(", "essays.example.net", "spam.example"):
            assert bad not in text
    everything = json.dumps(as_expected(issue))
    for chrome in ("/category/", "Recent posts", "cookies", "Privacy policy", "sharer",
                   "intent/tweet", "Mara Quill", "Skip to content", "Events"):  # fmt: skip
        assert chrome not in everything


def test_canonical_urls_let_the_caller_find_known_items() -> None:
    issue = import_roundup((ROUNDUPS / "march-2026.html").read_text(), "2026-03", MARCH_TITLE)
    canonical = canonical_urls(issue)
    assert len(canonical) == 8
    seat_time = "https://www.elm-policy-center.example.org/reports/seat-time-2026"
    assert canonical[seat_time + "?utm_source=roundup&utm_medium=email"] == seat_time
    profiles = "https://alder-institute.example.org/posts/student-authored-learner-profiles.html"
    assert canonical[profiles] == profiles


def test_the_link_check_sees_each_imported_link_once() -> None:
    issue = import_roundup((ROUNDUPS / "march-2026.html").read_text(), "2026-03", MARCH_TITLE)
    links = links_of(issue)
    assert links[0] == "https://competencyroundup.example.org/2026/02/whats-new-february-2026/"
    assert links[-1] == "https://competencyroundup.example.org/subscribe/"
    # 8 entries, 2 home pages in blurbs, the intro's and the closing's link.
    assert len(links) == len(set(links)) == 12


# -- the text form -----------------------------------------------------------------------------

UNLINKED = """\
Skip to content
Larch Education Review

What's New in Mastery Learning

Tamarack Schools

  • Tamarack Schools moved every ninth-grade course to proficiency scales this year. Teachers
    meet monthly to calibrate.
  • A second district joined the regional portfolio defense network.

Policy
------
  - The state board published draft guidance on competency-based diplomas from the
    Larch Education Review office.

For updates, sign up for the monthly email.
"""


def test_text_without_links_gets_stable_keys_the_renderer_shows_unlinked() -> None:
    issue = import_roundup(UNLINKED, "2025-11", "Larch Review, November 2025")
    assert issue.title == "Larch Review, November 2025"
    assert [s.name for s in issue.sections] == ["Tamarack Schools", "Policy"]
    assert [e.url for e in issue.entries] == [
        "urn:cbewatch:import:2025-11:1",
        "urn:cbewatch:import:2025-11:2",
        "urn:cbewatch:import:2025-11:3",
    ]
    assert all(e.url.startswith(UNLINKED_PREFIX) for e in issue.entries)
    first, second, third = issue.entries
    assert first.title == (
        "Tamarack Schools moved every ninth-grade course to proficiency scales this year."
    )
    assert first.blurb == (
        "Tamarack Schools moved every ninth-grade course to proficiency scales this year. "
        "Teachers meet monthly to calibrate."
    )
    assert (first.organization, second.organization) == ("", "")
    assert third.organization == "Larch Education Review"
    assert issue.intro == ""
    assert issue.closing == "For updates, sign up for the monthly email."
    assert canonical_urls(issue) == {}


def test_a_long_unlinked_title_is_cut_on_a_word() -> None:
    words = "competency " * 30
    issue = import_roundup(f"Section\n\n- {words}end.\n", "2025-11", "T")
    title = issue.entries[0].title
    assert len(title) <= 120 and title.endswith("competency…")


REFS = {"1": "https://alder.example.org/brief", "2": "https://cedar.example.org/"}


@pytest.mark.parametrize(
    ("text", "blurb"),
    [
        # Markdown links stay as they are; other schemes keep their text only.
        ("See [the brief](https://alder.example.org/brief).",
         "See [the brief](https://alder.example.org/brief)."),
        ("Do [not click](javascript:alert(1)) this.", "Do not click this."),
        # A numbered marker links the clause before it.
        ("A new brief from Alder Institute, Learner Profiles [1], collects examples.",
         "A new brief from Alder Institute, [Learner Profiles](https://alder.example.org/brief),"
         " collects examples."),
        ("Grants open in May, from the Cedar Foundation [2].",
         "Grants open in May, from the [Cedar Foundation](https://cedar.example.org/)."),
        ("A webinar by Bramble staff [1] is online.",  # no boundary: the whole clause
         "[A webinar by Bramble staff](https://alder.example.org/brief) is online."),
        ("An unknown marker [9] stays text.", r"An unknown marker \[9\] stays text."),
        # Bare URLs: the sentence's full stop is not part of the URL.
        ("Read more: https://alder.example.org/brief.",
         "[Read more](https://alder.example.org/brief)."),
        ("The Learner Profiles brief (https://alder.example.org/brief) is out.",
         "[The Learner Profiles brief](https://alder.example.org/brief) is out."),
        ("Learner Profiles <https://alder.example.org/brief>",
         "[Learner Profiles](https://alder.example.org/brief)"),
        ("https://alder.example.org/brief", "[alder.example.org](https://alder.example.org/brief)"),
        ("Wiki: https://w.example.org/Grading_(education), a start.",
         "[Wiki](https://w.example.org/Grading_%28education%29), a start."),
        # Brackets in text are escaped; markup and entities are not kept as markup.
        ("Scores [0-4] and <b>bold</b> &amp; more<script>x()</script>",
         r"Scores \[0-4\] and bold & more"),
    ],
)  # fmt: skip
def test_text_links_become_markdown(text: str, blurb: str) -> None:
    assert markdown(text_pieces(text, REFS)) == blurb


def test_bullet_styles_headings_and_wrapped_lines() -> None:
    text = """\
## Personalized Learning
* One [a](https://x.example.org/1)
· Two [b](https://x.example.org/2) with a
  wrapped line
– Three [c](https://x.example.org/3)

* * *

Grading
=======

- Four [d](https://x.example.org/4)
"""
    issue = import_roundup(text, "2026-01", "T")
    assert sections_of(issue) == {"Personalized Learning": ["a", "b", "c"], "Grading": ["d"]}
    assert issue.entries[1].blurb == "Two [b](https://x.example.org/2) with a wrapped line"


def test_bullets_before_any_heading_form_the_lead_section() -> None:
    text = "Welcome to the issue.\n\n- First [one](https://x.example.org/1)\n"
    issue = import_roundup(text, "2026-01", "T")
    assert sections_of(issue) == {LEAD_SECTION: ["one"]}
    assert issue.intro == "Welcome to the issue."


def test_two_entries_on_one_link_keep_apart() -> None:
    text = """\
Resources

- [The brief](https://x.example.org/brief) from [Alder](https://alder.example.org/)
- Also on [the brief](https://x.example.org/brief), its [data](https://x.example.org/data)
- Once more, [the brief](https://x.example.org/brief)
"""
    first, second, third = import_roundup(text, "2026-01", "T").entries
    assert (first.url, first.organization) == ("https://x.example.org/brief", "Alder")
    assert (second.url, second.title) == ("https://x.example.org/data", "data")
    assert (third.url, third.title) == ("urn:cbewatch:import:2026-01:3", "the brief")
    assert third.organization == "x.example.org"


@pytest.mark.parametrize(
    ("item", "organization"),
    [
        ("[Report](https://a.example.org/r) from [Alder Institute](https://www.alder.example.org/)",
         "Alder Institute"),
        ("In an article published on The 74, [Title](https://the74.example.org/t), a look",
         "The 74"),
        ("A guide by the Nellie Mae Education Foundation, [T](https://n.example.org/t)",
         "Nellie Mae Education Foundation"),
        ("[Due by May 2026](https://www.elm.example.org/r) says Elm", "elm.example.org"),
        ("Results [from Alder Lab](https://a.example.org/r) are in", "a.example.org"),
    ],
)  # fmt: skip
def test_organization_rules(item: str, organization: str) -> None:
    issue = import_roundup(f"Section\n\n- {item}\n", "2026-01", "T")
    assert issue.entries[0].organization == organization


# -- the HTML reader -------------------------------------------------------------------------


def page(body: str, head: str = "<title>A Roundup | A Site</title>") -> str:
    return f"<!doctype html><html><head>{head}</head><body>{body}</body></html>"


def test_paragraph_style_roundups_and_their_continuations() -> None:
    html = page("""
      <main>
        <h2>Research</h2>
        <p>This section collects the month's studies.</p>
        <p><a href="https://a.example.org/study">A Study of Pacing</a> tracks 40 classrooms.</p>
        <p>It also finds that:</p>
        <ul><li>students finish more units</li><li>teachers reteach less</li></ul>
        <p>The <a href="https://b.example.org/scan">State Scan</a> is out.</p>
        <h3>Webinars</h3>
        <p>None this month.</p>
      </main>""")
    issue = import_roundup(html, "2026-02", "T")
    assert issue.title == "A Roundup"
    assert sections_of(issue) == {"Research": ["A Study of Pacing", "State Scan"]}
    assert issue.entries[0].blurb == (
        "[A Study of Pacing](https://a.example.org/study) tracks 40 classrooms. "
        "It also finds that: students finish more units teachers reteach less"
    )
    assert issue.intro == ""  # the section's own opening paragraph is not the issue's intro


def test_without_article_or_main_the_items_container_is_the_content() -> None:
    html = page("""
      <div class="wrap">
        <div id="sidebar">
          <h3>Popular</h3><ul><li><a href="https://s.example.org/1">Old post</a></li></ul>
        </div>
        <div class="post">
          <p>Our picks this month.</p>
          <h2>Equity</h2>
          <ul>
            <li><a href="https://e.example.org/1">One</a> from Elm.</li>
            <li><a href="/relative/two">Two</a>, a relative link without a base.</li>
          </ul>
        </div>
      </div>""")
    issue = import_roundup(html, "2026-02", "Fallback title")
    assert sections_of(issue) == {"Equity": ["One", "Two, a relative link without a base."]}
    assert issue.entries[1].url == "urn:cbewatch:import:2026-02:2"
    assert issue.intro == "Our picks this month."


def item(n: int) -> str:
    return f'<li><a href="https://x.example.org/{n}">Item {n}</a> from Elm.</li>'


def test_the_post_article_wins_over_main_unless_it_is_only_a_card() -> None:
    post = f"<article><h2>News</h2><ul>{item(1)}{item(2)}{item(3)}</ul></article>"
    more = f"<div class='more-reading'><h2>More</h2><ul>{item(8)}{item(9)}</ul></div>"
    issue = import_roundup(page(f"<main>{post}{more}</main>"), "2026-02", "T")
    assert sections_of(issue) == {"News": ["Item 1", "Item 2", "Item 3"]}
    cards = "".join(f"<article><ul>{item(n)}</ul></article>" for n in (1, 2, 3))
    issue = import_roundup(page(f"<main><h2>News</h2>{cards}</main>"), "2026-02", "T")
    assert sections_of(issue) == {"News": ["Item 1", "Item 2", "Item 3"]}


def test_the_page_title_falls_back_to_og_title_then_title_then_the_default() -> None:
    body = "<article><h2>S</h2><ul><li><a href='https://x.example.org/1'>X</a></li></ul></article>"
    og = '<meta property="og:title" content="From &lt;b&gt;OG&lt;/b&gt;">'
    assert import_roundup(page(body, og), "2026-02", "D").title == "From OG"
    assert import_roundup(page(body), "2026-02", "D").title == "A Roundup"
    assert import_roundup(page(body, ""), "2026-02", "D").title == "D"


# -- refusals ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "text",
    [
        "",
        "Just one paragraph of prose, with no list in it at all.",
        "Heading\n\nAnother heading\n",
        page("<nav><ul><li><a href='https://x.example.org/'>Home</a></li></ul></nav><p>Hi.</p>"),
    ],
)
def test_input_without_items_is_refused_in_one_sentence(text: str) -> None:
    with pytest.raises(IssueError, match=r"^The roundup has no sections or items"):
        import_roundup(text, "2026-01", "T")


@pytest.mark.parametrize("month", ["2026-13", "2026-3", "March 2026", ""])
def test_a_bad_month_is_refused(month: str) -> None:
    with pytest.raises(IssueError, match="is not a month written as YYYY-MM"):
        import_roundup("Section\n\n- item\n", month, "T")


def test_markdown_of_pieces_keeps_spacing_and_escapes_link_text() -> None:
    pieces = [Piece("See "), Piece(" the [draft] ", "https://x.example.org/a b"), Piece(",ok")]
    assert markdown(pieces) == r"See [the \[draft\]](https://x.example.org/a%20b) ,ok"

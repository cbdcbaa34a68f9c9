"""Extraction on golden pairs (page → expected main text) and its pure decisions."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cbewatch.errors import BlockedURL, FetchError, FetchTimeout, HTTPStatusError, TooLarge
from cbewatch.extract import (
    MAX_ATTEMPTS,
    PageJob,
    interleave_by_host,
    is_final_failure,
    is_pdf,
    read_page,
)
from tests.boilerplate_sites import token_f1
from tests.conftest import FIXTURES

PAIRS = sorted((FIXTURES / "extract").glob("*.html"))
DEMO_PDF = (
    Path(__file__).parent.parent
    / "src/cbewatch/demo/sites/elm-policy-center/reports/seat-time-2026.pdf"
)
F1_GOAL = 0.92


def extract_pair(page: Path) -> tuple[str, dict]:
    expected = json.loads(page.with_suffix(".expected.json").read_text())
    article = read_page(expected["url"], "text/html", "utf-8", page.read_bytes())
    return article.text, expected


def test_main_text_f1_meets_the_goal_on_every_fixture_page() -> None:
    assert len(PAIRS) >= 10
    scores = {page.stem: token_f1(*_text_and_expected(page)) for page in PAIRS}
    mean = sum(scores.values()) / len(scores)
    assert mean >= F1_GOAL, scores
    assert min(scores.values()) >= 0.85, scores


def _text_and_expected(page: Path) -> tuple[str, str]:
    text, expected = extract_pair(page)
    return text, expected["text"]


@pytest.mark.parametrize("page", PAIRS, ids=lambda p: p.stem)
def test_boilerplate_stays_out_and_metadata_comes_in(page: Path) -> None:
    expected = json.loads(page.with_suffix(".expected.json").read_text())
    article = read_page(expected["url"], "text/html", "utf-8", page.read_bytes())
    for chrome in expected["absent"]:
        assert chrome not in article.text
    assert article.title == expected["title"]
    assert article.language and article.language.startswith("en")
    assert article.published and article.published.startswith("2026-")
    assert article.page_canonical and article.page_canonical.startswith("https://")


def test_a_hostile_page_keeps_its_story_and_nothing_executable() -> None:
    page = FIXTURES / "extract" / "outlet-div-soup.html"
    article = read_page("https://ledger.example.org/x/", "text/html", None, page.read_bytes())
    lowered = article.html.lower()
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "<svg", "<style"):
        assert bad not in lowered
    assert "<ul><li>how many students finish" in article.html
    assert article.image == "https://ledger.example.org/img/lakeview-studio.jpg"
    assert article.site_name == "Prairie Schools Ledger"
    assert article.author == "Priya Castellanos"


KICKER_PAGE = """<html lang="en"><head><title>{title} | Alder</title></head><body>
<nav><a href="/">Home</a> <a href="/blog">Blog</a></nav><main><article class="post">
<header class="post-header"><p class="post-category">{kicker}</p><h1>{title}</h1>
<p class="byline">By Ana Ruiz</p></header><div class="post-body">{body}</div></article></main>
<footer><p>Alder Institute</p></footer></body></html>"""
BODY = "".join(
    f"<p>Teachers in four districts rewrote their report cards around a few clear standards, "
    f"and in the {n} term they asked families what the new grades told them.</p>"
    for n in ("first", "second", "third", "fourth", "fifth")
)


@pytest.mark.parametrize(
    ("kicker", "first_words"),
    [
        ("Leadership", "Teachers in four districts"),  # a category above the title: dropped
        ("", "Teachers in four districts"),  # the title heading alone: dropped
        # a real first sentence before the heading is body text: nothing is dropped
        ("A word from our director on why this work matters now.", "A word from our"),
    ],
)
def test_the_title_and_its_category_are_not_body_text(kicker: str, first_words: str) -> None:
    """The item page shows the title once: the page's own heading (and a category word
    above it) stays out of the text shown under it."""
    title = "Report cards that say what a student can do"
    page = KICKER_PAGE.format(title=title, kicker=kicker, body=BODY).encode()
    article = read_page("https://alder.example.org/posts/1", "text/html", "utf-8", page)
    assert article.title == title
    assert article.text.startswith(first_words), article.text[:80]
    assert "Leadership" not in article.html


def test_the_demo_podcast_page_starts_with_its_story() -> None:
    """The page that showed the bug: "Leadership" and the title above the text."""
    page = (
        DEMO_PDF.parent.parent.parent
        / "alder-institute/posts/principal-podcast-proficiency-diploma.html"
    )
    article = read_page("https://alder.example.org/p.html", "text/html", "utf-8", page.read_bytes())
    assert article.text.startswith("In the latest episode of our podcast")


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00\xff\xfe garbage \x89PNG",
        b"<html><body>" + b"<div>" * 20_000 + b"deep" + b"</div>" * 20_000 + b"</body></html>",
        b"<html><body><script>while(1){}</script></body></html>",
        b"%PDF-1.7 not really a pdf",
    ],
    ids=["empty", "binary", "deeply-nested", "only-script", "broken-pdf"],
)
def test_unreadable_bodies_are_a_plain_value_error(body: bytes) -> None:
    with pytest.raises(ValueError):
        read_page("https://a.example.org/p", "text/html", None, body)


def test_a_pdf_report_gets_title_and_text() -> None:
    article = read_page(
        "https://elm.example.org/r.pdf", "application/pdf", None, DEMO_PDF.read_bytes()
    )
    assert article.title and article.title.startswith("Beyond Seat Time")
    assert len(article.text) > 500 and "\n\n" in article.text
    assert article.html.startswith("<p>")


@pytest.mark.parametrize(
    ("url", "content_type", "expected"),
    [
        ("https://a.org/r.pdf", "application/pdf", True),
        ("https://a.org/r.PDF", None, True),
        ("https://a.org/r.pdf", "application/octet-stream", True),
        ("https://a.org/r.pdf", "text/html", False),  # the server says it is a page
        ("https://a.org/r", "text/html", False),
    ],
)
def test_is_pdf(url: str, content_type: str | None, expected: bool) -> None:
    assert is_pdf(url, content_type) is expected


@pytest.mark.parametrize(
    ("error", "attempts", "final"),
    [
        (FetchTimeout("u", "slow"), 0, False),
        (FetchTimeout("u", "slow"), MAX_ATTEMPTS - 1, True),
        (FetchError("u", "connection refused"), 0, False),
        (HTTPStatusError("u", 503), 1, False),
        (HTTPStatusError("u", 429), 0, False),
        (HTTPStatusError("u", 404), 0, True),
        (HTTPStatusError("u", 410), 0, True),
        (TooLarge("u", "big"), 0, True),
        (BlockedURL("u", "private"), 0, True),
    ],
)
def test_which_failures_are_tried_again(error: FetchError, attempts: int, final: bool) -> None:
    assert is_final_failure(error, attempts) is final


def test_jobs_alternate_between_hosts() -> None:
    jobs = [PageJob(i, f"https://{host}.org/{i}") for i, host in enumerate("aaab")]
    assert [j.item_id for j in interleave_by_host(jobs)] == [0, 3, 1, 2]

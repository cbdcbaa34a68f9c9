"""Markdown-light (newsletter/blurbs.py) as tables: links and emphasis only, hostile input
stays text, and the text and Markdown forms number and escape what they should."""

from __future__ import annotations

import pytest

from cbewatch.newsletter import blurbs

HTML_CASES = [
    ("plain words", "plain words"),
    ("*one* and **two** and _three_", "<em>one</em> and <strong>two</strong> and <em>three</em>"),
    ("[Report](https://example.org/r)", '<a href="https://example.org/r">Report</a>'),
    ("[Write](mailto:team@example.org)", '<a href="mailto:team@example.org">Write</a>'),
    ("[**B** x](http://example.org/)", '<a href="http://example.org/"><strong>B</strong> x</a>'),
    ("R&D <b>x</b>", "R&amp;D &lt;b&gt;x&lt;/b&gt;"),
    ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
    ('"><img src=x onerror=alert(1)>', '"&gt;&lt;img src=x onerror=alert(1)&gt;'),
    ("[x](javascript:alert(1))", "[x](javascript:alert(1))"),
    ("[x](JaVaScRiPt:alert(1))", "[x](JaVaScRiPt:alert(1))"),
    ("[x](data:text/html;base64,PHNjcmlwdD4=)", "[x](data:text/html;base64,PHNjcmlwdD4=)"),
    ("[x](vbscript:msgbox)", "[x](vbscript:msgbox)"),
    ("[x](file:///etc/passwd)", "[x](file:///etc/passwd)"),
    ("[x](/relative/page)", "[x](/relative/page)"),
    ("[x](//example.org/no-scheme)", "[x](//example.org/no-scheme)"),
    ("[x](https:no-slashes)", "[x](https:no-slashes)"),
    ("[x](mailto:nobody)", "[x](mailto:nobody)"),
    # An image is a "!" and then a link: never an <img>.
    ("![x](https://example.org/p.gif)", '!<a href="https://example.org/p.gif">x</a>'),
    ("![x](y)", "![x](y)"),
    # Quotes in a URL are percent-encoded: no way out of the attribute.
    ('[x](https://example.org/"onmouseover="alert(1))', '<a href="https://example.org/%22onmouseover=%22alert(1)">x</a>'),
    ("<https://example.org/autolink>", "&lt;https://example.org/autolink&gt;"),
    ("`code` # heading\n> quote", "`code` # heading &gt; quote"),  # one line: no blocks
    ("[](https://example.org/empty)", '<a href="https://example.org/empty">https://example.org/empty</a>'),
    ("one\x00two\x1b", "onetwo"),
    ("first\n\nsecond", "first<br>second"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "html"), HTML_CASES)
def test_to_html_keeps_links_and_emphasis_only(text: str, html: str) -> None:
    assert blurbs.to_html(text) == html


def test_intro_paragraphs() -> None:
    text = "First *one*.\n\nSecond, [linked](https://example.org/).\n  \n<p>Third</p>"
    assert blurbs.to_paragraphs_html(text) == (
        "<p>First <em>one</em>.</p>"
        '<p>Second, <a href="https://example.org/">linked</a>.</p>'
        "<p>&lt;p&gt;Third&lt;/p&gt;</p>"
    )
    assert blurbs.to_paragraphs_html("") == ""


TEXT_CASES = [
    ("no links", [], "no links", []),
    ("*a* **b**", [], "a b", []),
    ("See [the report](https://example.org/r).", [], "See the report [1].", ["https://example.org/r"]),
    (
        "[One](https://a.example.org/) and [two](https://b.example.org/)",
        ["https://z.example.org/"],
        "One [2] and two [3]",
        ["https://z.example.org/", "https://a.example.org/", "https://b.example.org/"],
    ),
    # A URL already listed keeps its number.
    (
        "[Again](https://a.example.org/) and [new](mailto:x@example.org)",
        ["https://a.example.org/"],
        "Again [1] and new [2]",
        ["https://a.example.org/", "mailto:x@example.org"],
    ),
    ("[bad](javascript:alert(1)) <script>", [], "[bad](javascript:alert(1)) <script>", []),
    ("[](https://example.org/e)", [], "https://example.org/e [1]", ["https://example.org/e"]),
    ("one\n\ntwo", [], "one\n\ntwo", []),
]  # fmt: skip


@pytest.mark.parametrize(("text", "links", "expected", "links_after"), TEXT_CASES)
def test_to_text_numbers_links(
    text: str, links: list[str], expected: str, links_after: list[str]
) -> None:
    links = list(links)
    assert blurbs.to_text(text, links) == expected
    assert links == links_after


MARKDOWN_CASES = [
    ("*em* and **strong**", "*em* and **strong**"),
    ("[Report](https://example.org/a_(b))", "[Report](https://example.org/a_%28b%29)"),
    ("<script>alert(1)</script>", "\\<script>alert(1)\\</script>"),
    ("[x](javascript:alert(1))", "\\[x\\](javascript:alert(1))"),
    ("![pixel](https://example.org/p.gif)", "\\![pixel](https://example.org/p.gif)"),
    ("snake_case and a\\*b", "snake\\_case and a\\\\\\*b"),
    ("&lt; stays &amp; R&D", "\\&lt; stays \\&amp; R&D"),
    ("# not a heading", "\\# not a heading"),
    ("1. not a list", "1\\. not a list"),
]  # fmt: skip


@pytest.mark.parametrize(("text", "markdown"), MARKDOWN_CASES)
def test_to_markdown_escapes_text(text: str, markdown: str) -> None:
    assert blurbs.to_markdown(text) == markdown


VALID_LINKS = [
    ("https://example.org/", True),
    ("http://example.org/path?q=1#f", True),
    ("HTTPS://EXAMPLE.ORG", True),
    ("mailto:someone@example.org", True),
    ("javascript:alert(1)", False),
    ("https://", False),
    ("https:/example.org", False),
    ("ftp://example.org/", False),
    ("/local", False),
    ("example.org", False),
    ("mailto:", False),
    ("https://user@example.org/", False),  # a host that is not what it looks like
]  # fmt: skip


@pytest.mark.parametrize(("url", "valid"), VALID_LINKS)
def test_valid_link(url: str, valid: bool) -> None:
    assert blurbs.valid_link(url) is valid


def test_plain_and_links_of() -> None:
    text = (
        "The **Lab** wrote [a brief](https://example.org/b) and [another](https://example.org/c)."
    )
    assert blurbs.plain(text) == "The Lab wrote a brief and another."
    assert blurbs.links_of(text) == ["https://example.org/b", "https://example.org/c"]
    assert blurbs.normalize_link("https://example.org/a b") == "https://example.org/a%20b"

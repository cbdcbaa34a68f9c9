"""The border: nothing executable survives clean_html or clean_title, ordinary content does."""

from __future__ import annotations

import pytest

from cbewatch.sanitize import TITLE_MAX, clean_html, clean_title, html_to_text

EXECUTABLE = ("<script", "onerror", "onload", "javascript:", "<iframe", "expression(", "<svg")
BASE = "https://granite-valley.example/field-notes/2026/05/post/"

HOSTILE = {
    "script": "<p>Safe</p><script>alert(1)</script>",
    "script-uppercase": "<p>Safe</p><SCRIPT SRC=https://evil.example/x.js></SCRIPT>",
    "script-unclosed": "<p>Safe</p><script>alert(1)",
    "onerror": '<p>Safe</p><img src="x.png" onerror="alert(1)">',
    "onerror-unquoted": "<p>Safe</p><img src=x onerror=alert(1)//>",
    "svg-onload": "<p>Safe</p><svg onload=alert(1)><circle r=5 /></svg>",
    "svg-script": "<p>Safe</p><svg><script>alert(1)</script></svg>",
    "body-onload": "<body onload=alert(1)><p>Safe</p></body>",
    "javascript-href": '<p>Safe</p><a href="javascript:alert(1)">x</a>',
    "javascript-mixed-case": '<p>Safe</p><a href="JaVaScRiPt:alert(1)">x</a>',
    "javascript-decimal": '<p>Safe</p><a href="&#106;avascript:alert(1)">x</a>',
    "javascript-padded": '<p>Safe</p><a href="&#0000106&#0000097vascript:alert(1)">x</a>',
    "javascript-hex": '<p>Safe</p><a href="&#x6A;&#x61;vascript&#x3A;alert(1)">x</a>',
    "javascript-tab": '<p>Safe</p><a href="jav&#x09;ascript:alert(1)">x</a>',
    "javascript-newline": '<p>Safe</p><a href="java\nscript:alert(1)">x</a>',
    "javascript-space": '<p>Safe</p><a href=" javascript:alert(1)">x</a>',
    "javascript-img": '<p>Safe</p><img src="javascript:alert(1)">',
    "vbscript": '<p>Safe</p><a href="vbscript:msgbox(1)">x</a>',
    "data-url": '<p>Safe</p><a href="data:text/html;base64,PHNjcmlwdD4=">x</a>',
    "iframe": '<p>Safe</p><iframe src="https://evil.example/">fallback</iframe>',
    "iframe-srcdoc": '<p>Safe</p><iframe srcdoc="<script>alert(1)</script>"></iframe>',
    "object-embed": '<p>Safe</p><object data="x.swf"></object><embed src="x.swf">',
    "style-expression": '<p style="width: expression(alert(1))">Safe</p>',
    "style-tag": "<style>p { background: url(javascript:alert(1)) }</style><p>Safe</p>",
    "math": '<p>Safe</p><math><mtext><a href="javascript:alert(1)">x</a></mtext></math>',
    "form": '<p>Safe</p><form action="https://evil.example"><input name=pw></form>',
    "meta-refresh": '<meta http-equiv="refresh" content="0;url=javascript:alert(1)"><p>Safe</p>',
    "base-tag": '<base href="javascript:alert(1)//"><p>Safe</p>',
    "link-tag": '<link rel="stylesheet" href="javascript:alert(1)"><p>Safe</p>',
    "comment-trick": "<p>Safe</p><!--<script>alert(1)</script>-->",
    "noscript-trick": '<p>Safe</p><noscript><p title="</noscript><img src=x onerror=alert(1)>">',
    "event-on-a": '<p>Safe</p><a href="/ok" onmouseover="alert(1)">x</a>',
    "template": "<p>Safe</p><template><script>alert(1)</script></template>",
    "nested-broken": "<p>Safe</p><<script>script>alert(1)<</script>/script>",
}


@pytest.mark.parametrize("markup", HOSTILE.values(), ids=HOSTILE.keys())
def test_nothing_executable_survives_clean_html(markup: str) -> None:
    cleaned = clean_html(markup, BASE)
    lowered = cleaned.lower()
    for needle in EXECUTABLE:
        assert needle not in lowered, f"{needle!r} survived: {cleaned!r}"
    assert "style=" not in lowered
    assert "Safe" in cleaned


@pytest.mark.parametrize("markup", HOSTILE.values(), ids=HOSTILE.keys())
def test_nothing_executable_survives_clean_title(markup: str) -> None:
    title = clean_title(markup)
    assert "<" not in title
    assert "alert(1)" not in title
    assert "Safe" in title


@pytest.mark.parametrize(
    ("markup", "cleaned"),
    [
        ("<p>Plain <em>and</em> <strong>strong</strong></p>", None),
        ("<h2>Heading</h2><h3>Sub</h3><blockquote>Quote</blockquote>", None),
        ("<ul><li>One</li><li>Two</li></ul><ol><li>First</li></ol>", None),
        ("<pre><code>x = 1</code></pre><p>a<br>b</p>", None),
        (
            '<figure><img src="https://cdn.example/a.png" alt="Chart"><figcaption>Fig</figcaption>'
            "</figure>",
            None,
        ),
        (
            '<a href="https://e.org/x" title="T">x</a>',
            '<a href="https://e.org/x" title="T" rel="noopener noreferrer">x</a>',
        ),
        (
            '<a href="../guide/">Guide</a>',
            '<a href="https://granite-valley.example/field-notes/2026/05/guide/" '
            'rel="noopener noreferrer">Guide</a>',
        ),
        (
            '<a href="mailto:info@e.org">Mail</a>',
            '<a href="mailto:info@e.org" rel="noopener noreferrer">Mail</a>',
        ),
        (
            '<img src="/img/a.png" alt="A">',
            '<img src="https://granite-valley.example/img/a.png" alt="A">',
        ),
        ('<div class="x" id="y"><span>Kept text</span></div>', "Kept text"),
        ("<h1>Top</h1>", "Top"),
        ("AT&amp;T &lt;tag&gt; caf&eacute;", "AT&amp;T &lt;tag&gt; café"),
    ],
)
def test_ordinary_content_survives(markup: str, cleaned: str | None) -> None:
    assert clean_html(markup, BASE) == (markup if cleaned is None else cleaned)


def test_relative_links_lose_their_href_without_a_base() -> None:
    assert clean_html('<a href="/x">x</a>') == '<a rel="noopener noreferrer">x</a>'


@pytest.mark.parametrize(
    ("markup", "text"),
    [
        ("<p>One</p><p>Two</p>", "One\n\nTwo"),
        ("<p>Line<br>break</p>", "Line\nbreak"),
        ("<p>Intro</p><ul><li>a</li><li>b</li></ul>", "Intro\n\na\nb"),
        ("Tom &amp; Jerry&nbsp;&#8217;s   \n  caf&eacute;", "Tom & Jerry ’s café"),
        ("<div>Block</div><span>inline</span> <b>bold</b>", "Block\n\ninline bold"),
        ("<script>var x = '<p>no</p>';</script>Yes<style>p{}</style>", "Yes"),
        ("<table><tr><td>a</td><td>b</td></tr><tr><td>c</td></tr></table>", "a b\nc"),
        ("", ""),
    ],
)
def test_html_to_text(markup: str, text: str) -> None:
    assert html_to_text(markup) == text


@pytest.mark.parametrize(
    ("raw", "title"),
    [
        ("<script>alert(1)</script>Hello", "Hello"),
        ("<b>Bold</b> move", "Bold move"),
        ("  Grading &amp; Reporting:\n  a   new  era ", "Grading & Reporting: a new era"),
        ("Teachers&#8217; &ldquo;voice&rdquo;", "Teachers’ “voice”"),
        ("<p>Para</p><p>two</p>", "Para two"),
        ("<img src=x onerror=alert(1)>Equity", "Equity"),
        ("x\x00y\x07z", "xyz"),
        ("&lt;em&gt;Double-escaped&lt;/em&gt; title", "Double-escaped title"),
        ("Scores: 3 < 4 and 5 > 2", "Scores: 3 < 4 and 5 > 2"),
    ],
)
def test_clean_title(raw: str, title: str) -> None:
    assert clean_title(raw) == title


def test_a_long_title_is_cut_on_a_word_boundary() -> None:
    title = clean_title("Mastery " * 60)
    assert len(title) <= TITLE_MAX
    assert title.endswith("Mastery…")


def test_a_long_title_without_spaces_is_cut_hard() -> None:
    title = clean_title("x" * 1000)
    assert len(title) == TITLE_MAX
    assert title.endswith("…")

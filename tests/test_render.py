"""The newsletter's five forms rendered from the bundled templates (real Jinja2,
css-inline, feedparser and Chromium): order, links, escaping, size, the inlined CSS, the
Atom feed read back, and an operator's own template winning over the bundled one."""

from __future__ import annotations

import os
import re
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import replace
from pathlib import Path

import feedparser
import lxml.html
import pytest
from setuptools import find_packages

from cbewatch.config import Settings, load_config
from cbewatch.errors import IssueError
from cbewatch.model.types import Issue, IssueEntry
from cbewatch.newsletter.render import (
    FEED_ISSUES,
    TEMPLATES,
    UNSUBSCRIBE_PLACEHOLDER,
    Renderer,
    bundled_templates,
)

from .conftest import write_config
from .issue_samples import (
    CEDAR,
    HARBOR,
    IMG,
    LAKESHORE,
    MESA,
    NORTHFIELD,
    PRAIRIE,
    SAMPLE_LINKS,
    SCRIPT,
    SUMMIT,
    forty_items,
    sample_issue,
)

ROOT = Path(__file__).parent.parent
BASE = "https://news.example.org/cbe/"
ATOM = "{http://www.w3.org/2005/Atom}"
SECTIONS = ["Personalized Learning", "Grading & Assessment", "Teacher Resources"]
# The entry each list item stands for, in order: its own URL.
ENTRY_URLS = [HARBOR, MESA, NORTHFIELD, CEDAR, PRAIRIE, LAKESHORE, SUMMIT]


def settings_in(folder: Path, extra: str = "") -> Settings:
    folder.mkdir(parents=True, exist_ok=True)
    body = f'newsletter:\n  title: "CBE Roundup"\n  base_url: "{BASE}"\n{extra}'
    return load_config(write_config(folder, body))


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    return Renderer(settings_in(tmp_path))


def hrefs(html: str) -> list[str]:
    return [a.get("href") for a in lxml.html.fromstring(html).iter("a")]


def assert_no_markup_from_text(html: str) -> None:
    """Nothing the issue's text held became markup: no script, no handler, no image."""
    doc = lxml.html.fromstring(html)
    assert not doc.xpath("//script | //img | //iframe")
    assert not [el for el in doc.iter() if any(a.startswith("on") for a in el.attrib)]
    assert SCRIPT not in html and IMG not in html
    assert "javascript:" not in " ".join(a.get("href", "") for a in doc.iter("a"))


def style_outside_media(css: str) -> str:
    """What is left of a style sheet once every @media block is cut out."""
    out = []
    rest = css
    while "@media" in rest:
        before, rest = rest.split("@media", 1)
        out.append(before)
        depth, i = 0, rest.index("{")
        while True:  # to the brace that closes the block
            depth += {"{": 1, "}": -1}.get(rest[i], 0)
            i += 1
            if depth == 0:
                break
        rest = rest[i:]
    return ("".join(out) + rest).strip()


def with_long_words(issue: Issue) -> Issue:
    """`issue` with an entry made of words too long for a phone's width."""
    url = "https://example.org/" + "very-long-path-" * 12
    entry = IssueEntry(url, url, "Long Words Institute", f"Unbroken: {'x' * 160} [{url}]({url})")
    first = issue.sections[0]
    return replace(issue, sections=(replace(first, entries=(entry, *first.entries)),
                                    *issue.sections[1:]))  # fmt: skip


# ---------------------------------------------------------------------------------------
# The email


def test_email_sections_and_items_in_order(renderer: Renderer) -> None:
    doc = lxml.html.fromstring(renderer.email_html(sample_issue()))
    assert [h.text_content() for h in doc.iter("h2")] == SECTIONS
    items = doc.xpath("//li")
    assert len(items) == 7
    # Each item links its entry's URL: its blurb's own link, or the added title link.
    for item, url in zip(items, ENTRY_URLS, strict=True):
        assert url in [a.get("href") for a in item.iter("a")]


def test_email_link_rule(renderer: Renderer) -> None:
    items = lxml.html.fromstring(renderer.email_html(sample_issue())).xpath("//li")
    # The blurb links its own URL: no title added.
    assert "Read:" not in items[0].text_content()
    assert items[0].text_content().startswith("The Harbor Institute followed")
    # It does not: "Read:" and the title, linked.
    assert items[1].text_content().endswith(f"goals. Read: {SCRIPT}")
    assert items[2].xpath("a[last()]")[0].text_content() == IMG
    # No blurb at all: the title, linked, and the organization.
    assert items[5].text_content() == "Office Hours Recording (Lakeshore Coaching)"


def test_email_has_every_link_and_the_placeholder(renderer: Renderer) -> None:
    html = renderer.email_html(sample_issue())
    links = hrefs(html)
    for url in SAMPLE_LINKS:
        assert url in links
    assert UNSUBSCRIBE_PLACEHOLDER in links
    assert f"{BASE}issues/2026-11/" in links  # read it on the web
    assert (
        renderer.email_html(sample_issue(), "https://x.example.org/u/abc").count(
            'href="https://x.example.org/u/abc"'
        )
        == 1
    )


def test_email_css_is_inlined_and_only_media_queries_stay(renderer: Renderer) -> None:
    html = renderer.email_html(sample_issue())
    doc = lxml.html.fromstring(html)
    styles = [s.text_content() for s in doc.iter("style")]
    assert len(styles) == 1
    assert style_outside_media(styles[0]) == ""
    assert "@media (prefers-color-scheme: dark)" in styles[0]
    assert "max-width: 480px" in styles[0]
    assert not doc.xpath("//link[@rel='stylesheet']")
    assert 'content="light dark"' in html
    assert "max-width: 600px" in doc.xpath("//table[@class='container']")[0].get("style")
    assert "color: #1a5a86" in doc.xpath("//li//a")[0].get("style")


def test_email_preheader_is_the_intro_start(renderer: Renderer) -> None:
    doc = lxml.html.fromstring(renderer.email_html(sample_issue()))
    hidden = doc.xpath("//body/div[1]")[0]
    assert "display:none" in hidden.get("style").replace(" ", "")
    assert hidden.text_content().startswith(
        "This month three states widened credit for learning outside school, and the "
        "Granite Learning Collaborative…"
    )


def test_forty_items_stay_under_90_kb(renderer: Renderer) -> None:
    html = renderer.email_html(forty_items())
    assert len(lxml.html.fromstring(html).xpath("//li")) == 40
    assert len(html.encode()) < 90 * 1024


def test_empty_sections_render_in_no_form(renderer: Renderer) -> None:
    issue = sample_issue()
    outputs = [
        renderer.email_html(issue),
        renderer.email_text(issue),
        renderer.issue_page(issue),
        renderer.feed([issue]),
    ]
    for output in outputs:
        assert "Equity" not in output
        assert "Teacher Resources" in output


# ---------------------------------------------------------------------------------------
# The text part


def test_text_part_numbers_every_link_and_lists_them(renderer: Renderer) -> None:
    text = renderer.email_text(sample_issue())
    listed = text.split("\nLinks\n-----\n", 1)[1].split("\n\n", 1)[0]
    assert listed.splitlines() == [f"[{n}] {url}" for n, url in enumerate(SAMPLE_LINKS, 1)]
    flat = " ".join(text.split())
    assert "the Granite Learning Collaborative [1] opened" in flat
    assert "built learner profiles [2] with students" in flat
    assert f"Read: {SCRIPT} [3]" in flat
    assert f"an earlier brief [4]. Read: {IMG} [5]" in flat
    assert "!pixel [7] Read: Unit Planning Kit [8]" in flat
    assert "* Office Hours Recording [9] (Lakeshore Coaching)" in flat
    assert "the fellowship team [10] before December 4. Read: Summit Fellowship 2027 [11]" in flat
    assert "the editors' desk [12]." in flat


def test_text_part_shape(renderer: Renderer) -> None:
    text = renderer.email_text(sample_issue())
    lines = text.splitlines()
    assert lines[:3] == [
        "What's New in K-12 Competency-Based Education",
        "=" * len("What's New in K-12 Competency-Based Education"),
        "November 2026 · Dana Whitfield",
    ]
    headings = [lines[i - 1] for i, line in enumerate(lines) if line and set(line) == {"-"}]
    assert headings == [*SECTIONS, "Links"]
    assert sum(line.startswith("* ") for line in lines) == 7
    assert max(len(line) for line in lines if not line.startswith("[")) <= 90
    assert f"Unsubscribe: {UNSUBSCRIBE_PLACEHOLDER}" in lines
    # Plain text is not HTML: the hostile title shows as typed, not as entities.
    assert SCRIPT in text and "&lt;" not in text and "&amp;" not in text
    assert "Grading & Assessment" in text


# ---------------------------------------------------------------------------------------
# Web page, archive, feed


def test_hostile_text_is_escaped_in_every_html_form(renderer: Renderer) -> None:
    issue = sample_issue()
    october = sample_issue("2026-10", title=f"October {SCRIPT} {IMG}")
    for html in (
        renderer.email_html(issue),
        renderer.issue_page(issue),
        renderer.issue_body(issue),
        renderer.archive_page([issue, october]),
    ):
        assert_no_markup_from_text(html)
        assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert (
        f"October {SCRIPT} {IMG}"
        in lxml.html.fromstring(renderer.archive_page([october])).text_content()
    )


def test_hostile_text_is_escaped_in_the_feed(renderer: Renderer) -> None:
    october = sample_issue("2026-10", title=f"October {SCRIPT}")
    feed = renderer.feed([sample_issue(), october])
    assert "<script" not in feed and "<img" not in feed
    root = ET.fromstring(feed)  # well-formed XML
    entries = root.findall(f"{ATOM}entry")
    assert entries[1].find(f"{ATOM}title").text == f"October {SCRIPT}"
    for entry in entries:
        assert_no_markup_from_text(entry.find(f"{ATOM}content").text)


def test_issue_page_is_standalone(renderer: Renderer) -> None:
    html = renderer.issue_page(sample_issue())
    doc = lxml.html.fromstring(html)
    assert (
        doc.find(".//title").text == "What's New in K-12 Competency-Based Education · CBE Roundup"
    )
    assert [h.text_content() for h in doc.iter("h2")] == SECTIONS
    assert not doc.xpath("//script | //link[@rel='stylesheet'] | //img | //iframe")
    assert doc.xpath("//link[@rel='canonical']")[0].get("href") == f"{BASE}issues/2026-11/"
    assert UNSUBSCRIBE_PLACEHOLDER not in html
    for url in SAMPLE_LINKS:
        assert url in hrefs(html)


def test_archive_lists_issues_newest_first(renderer: Renderer) -> None:
    issues = [sample_issue("2026-09"), sample_issue("2026-11"), sample_issue("2026-10")]
    doc = lxml.html.fromstring(renderer.archive_page(issues))
    links = doc.xpath("//ol/li/a")
    assert [a.get("href") for a in links] == [
        f"{BASE}issues/2026-11/",
        f"{BASE}issues/2026-10/",
        f"{BASE}issues/2026-09/",
    ]
    assert doc.xpath("//ol/li/span")[0].text == "November 2026"
    summary = doc.xpath("//p[@class='summary']")[0].text
    assert summary.startswith("This month three states widened credit for learning")
    assert summary.endswith("…") and len(summary.split()) == 30
    assert doc.xpath("//*[@id='subscribe']//p")[0].text.startswith("Subscribe")
    assert not doc.xpath("//script")
    [form] = doc.xpath("//*[@id='subscribe']//form")  # posts to the live site, even from a copy
    assert (form.get("method"), form.get("action")) == ("post", f"{BASE}subscribe")
    assert [i.get("name") for i in form.xpath(".//input")] == ["email", "name", "website"]


def test_two_issues_of_one_month_are_refused(renderer: Renderer) -> None:
    with pytest.raises(IssueError, match="two issues for 2026-11"):
        renderer.archive_page([sample_issue(), sample_issue()])
    with pytest.raises(IssueError, match="not a month"):
        renderer.issue_page(sample_issue("2026-13"))


def test_feed_parses_back(renderer: Renderer) -> None:
    issues = [sample_issue("2026-10", title="October roundup"), sample_issue()]
    parsed = feedparser.parse(renderer.feed(issues))
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version == "atom10"
    assert parsed.feed.title == "CBE Roundup"
    assert parsed.feed.link == BASE
    assert [e.title for e in parsed.entries] == [
        "What's New in K-12 Competency-Based Education",
        "October roundup",
    ]
    assert [e.link for e in parsed.entries] == [f"{BASE}issues/2026-11/", f"{BASE}issues/2026-10/"]
    assert [e.id for e in parsed.entries] == [f"{BASE}issues/2026-11/", f"{BASE}issues/2026-10/"]
    assert parsed.entries[0].updated == "2026-11-28T09:30:00Z"
    content = parsed.entries[0].content[0]
    assert content.type == "text/html"
    assert "<h2>Grading &amp; Assessment</h2>" in content.value
    assert f'href="{HARBOR}"' in content.value
    assert "<nav>" not in content.value and "<html" not in content.value


def test_feed_holds_the_newest_issues(renderer: Renderer) -> None:
    issues = [sample_issue(f"2025-{m:02d}") for m in range(1, 13)]
    parsed = feedparser.parse(renderer.feed(issues))
    assert len(parsed.entries) == FEED_ISSUES == 5
    assert parsed.entries[0].link.endswith("/2025-12/")
    assert parsed.entries[-1].link.endswith("/2025-08/")


# ---------------------------------------------------------------------------------------
# Templates: the operator's folder, then the bundle


def test_an_operators_template_wins_and_the_others_come_from_the_bundle(tmp_path: Path) -> None:
    mine = tmp_path / "my-templates"
    mine.mkdir()
    (mine / "email.txt").write_text("OURS {{ issue.title }} {{ unsubscribe_url }}\n")
    (mine / "issue.html").write_text(
        "<h1>{{ issue.title }}</h1>{% block content %}<p>{{ issue.month_name }}</p>{% endblock %}"
    )
    renderer = Renderer(settings_in(tmp_path, "  templates: my-templates\n"))
    issue = sample_issue(title=f"Ours {SCRIPT}")
    assert renderer.email_text(issue) == f"OURS Ours {SCRIPT} {UNSUBSCRIBE_PLACEHOLDER}\n"
    page = renderer.issue_page(issue)
    assert page == "<h1>Ours &lt;script&gt;alert(1)&lt;/script&gt;</h1><p>November 2026</p>"
    assert renderer.issue_body(issue) == "<p>November 2026</p>"
    assert "Read it on the web" in renderer.email_html(issue)  # bundled
    assert "<feed" in renderer.feed([issue])  # bundled, with the operator's content block
    assert renderer.fingerprint() != Renderer(settings_in(tmp_path / "other")).fingerprint()


def test_a_running_renderer_sees_a_template_added_or_edited(tmp_path: Path) -> None:
    renderer = Renderer(settings_in(tmp_path))
    assert renderer.email_text(sample_issue()).startswith("What's New")
    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / "email.txt").write_text("first {{ issue.month }}")
    assert renderer.email_text(sample_issue()) == "first 2026-11"
    (mine / "email.txt").write_text("second {{ issue.month }}")
    os.utime(mine / "email.txt", (1, 1))  # a new mtime, however fast the test runs
    assert renderer.email_text(sample_issue()) == "second 2026-11"


def test_an_operators_broken_template_is_named(tmp_path: Path) -> None:
    mine = tmp_path / "templates"
    mine.mkdir()
    (mine / "email.txt").write_text("{{ issue.no_such_thing }}")
    (mine / "issue.html").write_text("<p>no content block</p>")
    renderer = Renderer(settings_in(tmp_path))
    with pytest.raises(IssueError, match=r"email\.txt.*no_such_thing"):
        renderer.email_text(sample_issue())
    with pytest.raises(IssueError, match=r"issue\.html.*block content"):
        renderer.issue_body(sample_issue())


def test_the_bundle_is_the_project_roots_templates_folder() -> None:
    bundle = bundled_templates()
    assert Path(str(bundle)) == ROOT / "templates"
    assert sorted(n.name for n in bundle.iterdir() if n.name in TEMPLATES) == sorted(TEMPLATES)


def test_pyproject_ships_every_package_and_the_templates() -> None:
    """The package list is explicit (templates/ is mapped onto a package name), so a new
    package under src/ must be added to it."""
    setuptools = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]
    assert setuptools["package-dir"] == {"": "src", "cbewatch.newsletter.templates": "templates"}
    expected = {*find_packages(str(ROOT / "src")), "cbewatch.newsletter.templates"}
    assert set(setuptools["packages"]) == expected


def test_docs_name_every_context_variable(renderer: Renderer) -> None:
    docs = (ROOT / "docs" / "templates.md").read_text()
    issue_context = renderer.context(sample_issue())
    feed_context = renderer.context(issues=[sample_issue()], feed=True)
    names = {
        *issue_context,
        *feed_context,
        *issue_context["newsletter"],
        *issue_context["issue"],
        *issue_context["issue"]["sections"][0],
        *issue_context["issue"]["sections"][0]["entries"][0],
        *feed_context["issues"][0],
    }
    missing = sorted(name for name in names if f"`{name}`" not in docs)
    assert not missing, f"docs/templates.md does not name {missing}"
    for name in TEMPLATES:
        assert f"`{name}`" in docs


# ---------------------------------------------------------------------------------------
# In a real browser: no horizontal scrolling at 600 and 375 px, dark mode, no script


@pytest.mark.parametrize("width", [600, 375])
@pytest.mark.parametrize("form", ["email", "page"])
def test_no_horizontal_scrolling(browser, renderer: Renderer, width: int, form: str) -> None:
    issue = with_long_words(forty_items())
    html = renderer.email_html(issue) if form == "email" else renderer.issue_page(issue)
    context = browser.new_context(viewport={"width": width, "height": 800})
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.route(re.compile(".*"), lambda route: route.abort())  # nothing may be fetched
    page.set_content(html)
    scroll_width = page.evaluate("document.documentElement.scrollWidth")
    assert scroll_width <= width, f"{form} is {scroll_width}px wide in a {width}px window"
    assert not dialogs
    context.close()


def test_email_in_dark_mode_and_with_hostile_text(browser, renderer: Renderer) -> None:
    context = browser.new_context(viewport={"width": 375, "height": 800}, color_scheme="dark")
    page = context.new_page()
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    page.set_content(renderer.email_html(with_long_words(sample_issue())))
    background = page.evaluate(
        "getComputedStyle(document.querySelector('.container')).backgroundColor"
    )
    assert background == "rgb(35, 35, 31)"  # #23231f, the dark rule over the inlined white
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.wait_for_timeout(200)
    assert not dialogs
    context.close()

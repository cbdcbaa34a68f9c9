"""Blog exports (newsletter/exports.py): the web page's body alone as HTML, and Markdown
that another engine shows safely."""

from __future__ import annotations

from pathlib import Path

import lxml.html
import markdown_it
import pytest

from cbewatch.config import Settings
from cbewatch.errors import IssueError
from cbewatch.model.types import Issue, IssueEntry, IssueSection
from cbewatch.newsletter.exports import export
from cbewatch.newsletter.render import Renderer

from .issue_samples import IMG, SAMPLE_LINKS, SCRIPT, sample_issue


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    return Renderer(Settings(path=tmp_path / "sources.yaml", data_dir=tmp_path / "var"))


SMALL = Issue(
    month="2026-03",
    title="March *roundup*",
    intro="A quiet month, with [one report](https://lab.example.org/r) worth reading.",
    closing="Until April.",
    author="Ana Ruiz",
    sections=(
        IssueSection(
            "Grading & Assessment",
            (
                IssueEntry(
                    "https://lab.example.org/r",
                    "The Report",
                    "Northfield Lab",
                    "**Northfield Lab** measured [retakes](https://lab.example.org/r).",
                ),
                IssueEntry(
                    "https://guild.example.org/kit_(v2)",
                    "Kit <v2>",
                    "Prairie Guild",
                    "A *free* kit from Prairie Guild.",
                ),
                IssueEntry("https://coach.example.org/hours", "Office Hours", "Lakeshore", ""),
            ),
        ),
        IssueSection("Empty"),
    ),
)


def test_markdown_export(renderer: Renderer) -> None:
    assert export(SMALL, renderer, "markdown") == (
        "# March \\*roundup\\*\n"
        "\n"
        "*March 2026 · Ana Ruiz*\n"
        "\n"
        "A quiet month, with [one report](https://lab.example.org/r) worth reading.\n"
        "\n"
        "## Grading & Assessment\n"
        "\n"
        "- **Northfield Lab** measured [retakes](https://lab.example.org/r).\n"
        "- A *free* kit from Prairie Guild. Read: "
        "[Kit \\<v2>](https://guild.example.org/kit_%28v2%29)\n"
        "- [Office Hours](https://coach.example.org/hours) (Lakeshore)\n"
        "\n"
        "Until April.\n"
    )


def test_markdown_export_of_hostile_text_renders_as_text(renderer: Renderer) -> None:
    markdown = export(sample_issue(), renderer, "markdown")
    # Rendered by an engine that allows raw HTML, nothing hostile becomes markup.
    html = markdown_it.MarkdownIt("commonmark", {"html": True}).render(markdown)
    doc = lxml.html.fromstring(html)
    assert not doc.xpath("//script | //img")
    assert not [el for el in doc.iter() if any(a.startswith("on") for a in el.attrib)]
    assert SCRIPT in doc.text_content() and IMG in doc.text_content()
    hrefs = [a.get("href") for a in doc.iter("a")]
    assert all(h.startswith(("https://", "mailto:")) for h in hrefs)
    assert set(SAMPLE_LINKS) <= set(hrefs)
    assert "Equity" not in markdown


def test_html_export_is_the_body_without_the_page(renderer: Renderer) -> None:
    html = export(sample_issue(), renderer, "html")
    assert html.startswith('<div class="intro"><p>This month three states')
    assert html.endswith("</div>\n")
    for tag in ("<html", "<head", "<body", "<nav", "<style", "<title", "<h1"):
        assert tag not in html
    doc = lxml.html.fromstring(f"<div>{html}</div>")
    assert [h.text_content() for h in doc.iter("h2")] == [
        "Personalized Learning",
        "Grading & Assessment",
        "Teacher Resources",
    ]
    assert len(doc.xpath("//li")) == 7


def test_unknown_format(renderer: Renderer) -> None:
    with pytest.raises(IssueError, match="'pdf' is not an export format: use html or markdown"):
        export(SMALL, renderer, "pdf")

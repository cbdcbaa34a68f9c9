"""Fixture sites for site-level boilerplate: the twelve hand-written articles of
fixtures/boilerplate/articles.json, each published by five sites whose layouts put
different chrome inside the article (a sign-up box, a "Related" label and share labels,
a pull quote and an author box, the title and byline again at the top, or all at once).
The gold text of a page is its article's paragraphs, as written; nothing of a layout.

Each site is a list page (`/<layout>/`, links `article h2 a`) on one fixture server, so
its pages are read as a source of kind `page` would be.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from html import escape

from cbewatch.demo.server import Route, SiteServer
from tests.conftest import FIXTURES

ARTICLES: list[dict] = json.loads((FIXTURES / "boilerplate" / "articles.json").read_text())
AUTHOR_BIOS = {
    "Marisol Okafor": "Marisol Okafor covers assessment and grading for the Brief. She taught "
    "high school English for nine years.",
    "Devon Achterberg": "Devon Achterberg writes about rural schools and family engagement "
    "from his home in the north of the state.",
    "Ruth Lindqvist": "Ruth Lindqvist reports on state policy and teacher preparation. "
    "Before joining us she worked in a state education agency.",
}
# The chrome is marked up as plainly as the article (no class trafilatura would know to
# drop), as on the sites where its precision fell.
SIGNUP = (
    '<div class="inset"><h3>Get the Mastery Brief in your inbox</h3>'
    "<p>Every Thursday: the week's research, policy and classroom stories, free.</p>"
    '<p><a href="/subscribe">Sign up now</a></p></div>'
)
DISCLAIMER = (
    "<p><em>The views expressed in this piece are those of the author and "
    "do not necessarily reflect the positions of the Mastery Brief or its funders.</em></p>"
)
SHARE = (
    '<p>Share this story: <a href="/s/fb">Facebook</a> <a href="/s/li">LinkedIn</a> '
    '<a href="/s/mail">Email</a></p>'
)


def gold(article: dict) -> str:
    return "\n\n".join(article["paragraphs"])


def token_f1(found: str, expected: str) -> float:
    """Token F1 over case-folded words, counting repeats (the usual extraction score)."""
    a = Counter(re.findall(r"\w+", found.casefold()))
    b = Counter(re.findall(r"\w+", expected.casefold()))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def _paragraphs(article: dict, pull_quote: bool = False) -> list[str]:
    blocks = []
    for text in article["paragraphs"]:
        if pull_quote and article["quote"] in text:
            # The pull quote comes before the paragraph it repeats, as magazines set it.
            blocks.append(
                f'<blockquote class="pull-quote"><p>“{escape(article["quote"])}”</p></blockquote>'
            )
        heading = len(text.split()) < 6 and not text.endswith(".")
        blocks.append(f"<h2>{escape(text)}</h2>" if heading else f"<p>{escape(text)}</p>")
    return blocks


def _related(index: int, layout: str) -> str:
    others = [ARTICLES[(index + step) % len(ARTICLES)] for step in (1, 2)]
    links = "".join(
        f'<li><a href="/{layout}/{a["slug"]}">{escape(a["title"])}</a></li>' for a in others
    )
    if index % 2:  # one link in the label's own paragraph, as some pages set it
        return f"<p><strong>Related:</strong> {links.split('</li>')[0][4:]}</p>"
    return f"<p><strong>Related</strong></p><ul>{links}</ul>"


def _author_box(article: dict) -> str:
    return (
        '<div class="end-note"><h4>About the writer</h4>'
        f"<p>{escape(AUTHOR_BIOS[article['author']])}</p></div>"
    )


def _byline(article: dict) -> str:
    return f"<p>{escape(article['author'])} · {article['date']}</p>"


def _body(index: int, layout: str) -> list[str]:
    """The article element's inner blocks for one layout."""
    article = ARTICLES[index]
    if layout == "plain":
        return _paragraphs(article)
    if layout == "signup":
        blocks = _paragraphs(article)
        return [*blocks[:2], SIGNUP, *blocks[2:], DISCLAIMER]
    if layout == "related":
        blocks = _paragraphs(article)
        return [SHARE, blocks[0], _related(index, layout), *blocks[1:]]
    if layout == "quote-author":
        return [*_paragraphs(article, pull_quote=True), _author_box(article)]
    if layout == "everything":
        blocks = _paragraphs(article, pull_quote=True)
        top = [f"<h2>{escape(article['title'])}</h2>", _byline(article), SHARE]
        return [*top, blocks[0], _related(index, layout), *blocks[1:3], SIGNUP, *blocks[3:],
                DISCLAIMER, _author_box(article)]  # fmt: skip
    raise ValueError(f"{layout!r} is not a layout")


LAYOUTS = ("plain", "signup", "related", "quote-author", "everything")


def page(index: int, layout: str) -> str:
    article = ARTICLES[index]
    description = ""
    if layout in ("plain", "signup"):  # the others leave the snippet to the text
        summary = escape(article["paragraphs"][0].split(". ")[0].rstrip(".") + ".")
        description = f'<meta name="description" content="{summary}">'
    body = "\n".join(_body(index, layout))
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{escape(article["title"])} | Mastery Brief</title>
{description}<meta name="author" content="{escape(article["author"])}">
<meta property="article:published_time" content="{article["date"]}T09:00:00Z">
</head><body>
<header><a href="/{layout}/">Mastery Brief</a><nav><a href="/{layout}/">News</a> <a href="/about">About</a> <a href="/donate">Donate</a></nav></header>
<main><article>
<h1>{escape(article["title"])}</h1>
<p class="meta">{escape(article["author"])} · <time datetime="{article["date"]}">{article["date"]}</time></p>
{body}
</article>
<aside class="most-read"><h3>Most read</h3><ul><li><a href="/{layout}/">Our annual report</a></li></ul></aside>
</main>
<footer><p>© 2026 Mastery Brief, a project of the Fenwick Learning Trust.</p><p><a href="/privacy">Privacy</a></p></footer>
</body></html>"""  # noqa: E501


def list_page(layout: str, count: int = len(ARTICLES)) -> str:
    """The site's list page, linking its first `count` articles."""
    links = "".join(
        f'<article><h2><a href="/{layout}/{a["slug"]}">{escape(a["title"])}</a></h2></article>'
        for a in ARTICLES[:count]
    )
    return f"<!doctype html><html><head><title>News</title></head><body>{links}</body></html>"


@dataclass(frozen=True)
class Site:
    layout: str
    list_url: str


def serve_sites(server: SiteServer, layouts: tuple[str, ...] = LAYOUTS) -> list[Site]:
    """Every layout's list page and twelve article pages on `server`."""
    sites = []
    for layout in layouts:
        server.add(f"/{layout}/", Route(list_page(layout)))
        for index, article in enumerate(ARTICLES):
            server.add(f"/{layout}/{article['slug']}", Route(page(index, layout)))
        sites.append(Site(layout, server.url(f"/{layout}/")))
    return sites


def sources_yaml(sites: list[Site]) -> str:
    """A `sources:` block with each site as a list page source named after its layout."""
    return "sources:\n" + "".join(
        f'  - name: {s.layout}\n    url: {s.list_url}\n    kind: page\n    links: "article h2 a"\n'
        for s in sites
    )


def slug_of(url: str) -> str:
    return url.rstrip("/").rsplit("/", 1)[1]


GOLD = {a["slug"]: gold(a) for a in ARTICLES}


def scores(texts: dict[tuple[str, str], str]) -> dict[str, float]:
    """Mean token F1 per layout and `overall` of (layout, slug) → extracted text."""
    by_layout: dict[str, list[float]] = {}
    for (layout, slug), text in texts.items():
        by_layout.setdefault(layout, []).append(token_f1(text, GOLD[slug]))
    means = {layout: sum(f) / len(f) for layout, f in by_layout.items()}
    every = [f for f in by_layout.values() for f in f]
    means["overall"] = sum(every) / len(every)
    return means

"""Article text on pages written apart: two sets of six sites in the manner of six
CMSs, 48 articles each, chrome inside the article (share and "Read next" labels,
captions, disclaimers, sign-up boxes, pull quotes, author boxes, donation appeals, the
title and byline again, tag lines), each by a writer who saw neither the extraction code
nor its test pages. Read through `cbewatch fetch` as page sources (fixture server on
127.0.0.1, real worker processes, real SQLite).

Each set was measured once (4 December 2026, second session), never tuned on; floors are
0.03 below what was measured. The issue's goals are 0.975 overall and 0.93 on the
hardest layout.
- tests/fixtures/pages_heldout: 0.974 overall; per site 1.000, 1.000, 0.987, 0.956,
  0.952 and 0.949 (a hand-written static site, its title and byline in the body).
- tests/fixtures/pages_heldout2, measured after two rules found on a third set written
  apart for development (a standfirst above the byline; a label beside one link):
  0.997 overall; five sites 1.000, one 0.980.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path

import pytest

from cbewatch.demo.server import Route, SiteServer
from tests.boilerplate_sites import token_f1
from tests.conftest import FIXTURES, write_config
from tests.test_fetch import items, run

# set → (floor overall, floor for the worst site): 0.03 below its first measure
FLOORS = {"pages_heldout": (0.944, 0.919), "pages_heldout2": (0.967, 0.950)}


@dataclass(frozen=True)
class Read:
    pages: Path
    items: list[dict]

    @cached_property
    def gold(self) -> dict[str, dict]:
        return json.loads((self.pages / "gold.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module", params=sorted(FLOORS))
def read(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Read:
    pages = FIXTURES / request.param
    sites = json.loads((pages / "sites.json").read_text(encoding="utf-8"))
    with SiteServer() as server:
        for page in (pages / "sites").rglob("*.html"):
            path = page.relative_to(pages / "sites").as_posix()
            server.add(f"/{path}", Route(page.read_text(encoding="utf-8")))
        sources = "".join(
            f"  - name: {json.dumps(s['name'])}\n"
            f"    url: http://{server.host_port}/{s['slug']}/index.html\n"
            f"    kind: page\n    links: {json.dumps(s['links'])}\n"
            for s in sites
        )
        config = write_config(tmp_path_factory.mktemp("pages"), f"sources:\n{sources}",
                              [server.host_port])  # fmt: skip
        assert "read 48 of 48 pages" in run(config, "fetch").output
        return Read(pages, items(config))


def test_every_article_is_found_once_with_a_snippet(read: Read) -> None:
    """A site of the first set names its list page as every page's canonical: its pages
    stay 8 items."""
    keys = sorted("/".join(i["url"].split("/")[-2:]) for i in read.items)
    assert keys == sorted(read.gold)
    assert all(i["summary_text"] for i in read.items)


def test_article_text_on_pages_written_apart(read: Read) -> None:
    by_site: dict[str, list[float]] = {}
    for item in read.items:
        key = "/".join(item["url"].split("/")[-2:])
        by_site.setdefault(key.split("/")[0], []).append(
            token_f1(item["text"], read.gold[key]["text"])
        )
    every = [f for scores in by_site.values() for f in scores]
    overall, worst_site = FLOORS[read.pages.name]
    assert sum(every) / len(every) >= overall
    worst = min(sum(scores) / len(scores) for scores in by_site.values())
    assert worst >= worst_site, by_site

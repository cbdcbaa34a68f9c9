"""Article text on pages written apart (tests/fixtures/pages_heldout): six sites in the
manner of six CMSs, 48 articles, chrome inside the article (share and "Read next" labels,
captions, a disclaimer, a sign-up box, pull quotes, author boxes, a donation appeal, the
title and byline again), written by a writer who saw neither the extraction code nor
its test pages. Read through `cbewatch fetch` as page sources (fixture server on
127.0.0.1, real worker processes, real SQLite).

Measured once (4 December 2026, second session), never tuned on: token F1 0.974 overall;
per site 1.000, 1.000, 0.987, 0.956, 0.952 and 0.949 (the hand-written static site, its
title and byline repeated in the body). The issue's goals are 0.975 overall and 0.93 on
the hardest layout. Floors are 0.03 below what was measured.
"""

from __future__ import annotations

import json

import pytest

from cbewatch.demo.server import Route, SiteServer
from tests.boilerplate_sites import token_f1
from tests.conftest import FIXTURES, write_config
from tests.test_fetch import items, run

PAGES = FIXTURES / "pages_heldout"
SITES = json.loads((PAGES / "sites.json").read_text(encoding="utf-8"))
GOLD = json.loads((PAGES / "gold.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def read_items(tmp_path_factory: pytest.TempPathFactory) -> list[dict]:
    with SiteServer() as server:
        for page in (PAGES / "sites").rglob("*.html"):
            path = page.relative_to(PAGES / "sites").as_posix()
            server.add(f"/{path}", Route(page.read_text(encoding="utf-8")))
        sources = "".join(
            f"  - name: {json.dumps(s['name'])}\n"
            f"    url: http://{server.host_port}/{s['slug']}/index.html\n"
            f"    kind: page\n    links: {json.dumps(s['links'])}\n"
            for s in SITES
        )
        config = write_config(tmp_path_factory.mktemp("pages"), f"sources:\n{sources}",
                              [server.host_port])  # fmt: skip
        assert "read 48 of 48 pages" in run(config, "fetch").output
        return items(config)


def test_every_article_is_found_once_with_a_snippet(read_items: list[dict]) -> None:
    """One site's pages all name its list page as canonical: they stay 8 items."""
    keys = sorted("/".join(i["url"].split("/")[-2:]) for i in read_items)
    assert keys == sorted(GOLD)
    assert all(i["summary_text"] for i in read_items)


def test_article_text_on_pages_written_apart(read_items: list[dict]) -> None:
    by_site: dict[str, list[float]] = {}
    for item in read_items:
        key = "/".join(item["url"].split("/")[-2:])
        by_site.setdefault(key.split("/")[0], []).append(token_f1(item["text"], GOLD[key]["text"]))
    every = [f for scores in by_site.values() for f in scores]
    assert sum(every) / len(every) >= 0.944  # measured 0.974
    worst = min(sum(scores) / len(scores) for scores in by_site.values())
    assert worst >= 0.919, by_site  # measured 0.949

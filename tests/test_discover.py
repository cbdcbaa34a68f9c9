"""`cbewatch discover URL [--add]` against fixture sites on 127.0.0.1, each a site of its
own: a blog naming its feed with rel=alternate, a site with only /rss.xml, one with only
a sitemap (named in robots.txt), one with only a news list page, and one with nothing."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from bs4 import BeautifulSoup
from click.testing import CliRunner

from cbewatch.cli import cli
from cbewatch.config import load_config
from cbewatch.demo.server import Route, SiteServer
from cbewatch.services.accounts import add_user
from cbewatch.store import Store

from .conftest import PASSWORD, csrf_from, logged_in, start_serve, write_config

RSS = """<?xml version="1.0"?><rss version="2.0"><channel><title>Hazel Notes</title>
<link>https://hazel.example.org/</link>
<item><title>One</title><link>{base}/posts/one</link><pubDate>Mon, 02 Nov 2026 09:00:00 GMT</pubDate></item>
<item><title>Two</title><link>{base}/posts/two</link><pubDate>Tue, 17 Nov 2026 09:00:00 GMT</pubDate></item>
</channel></rss>"""  # noqa: E501

SITEMAP = """<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">
<url><loc>{base}/reports/a</loc><lastmod>2026-10-01</lastmod></url>
<url><loc>{base}/reports/b</loc><lastmod>2026-11-12</lastmod></url>
<url><loc>{base}/reports/c</loc><lastmod>2026-09-03</lastmod></url>
</urlset>"""

NEWS_PAGE = """<!doctype html><html><head><title>News | Juniper Alliance</title></head><body>
<header><nav><a href="/">Home</a> <a href="/about/">About</a> <a href="/news/">News</a>
<a href="/contact/">Contact</a></nav></header>
<main>
  <h1>News</h1>
  <div class="news-list">
    <article class="card"><h3><a href="/news/credit-flex">Credit flexibility arrives</a></h3>
      <time datetime="2026-11-20">Nov 20</time><p>Short teaser.</p></article>
    <article class="card"><h3><a href="/news/rubric-bank">A rubric bank opens</a></h3>
      <time datetime="2026-11-11">Nov 11</time><p>Short teaser. <a href="/tags/rubrics">rubrics</a></p></article>
    <article class="card"><h3><a href="/news/profiles">Learner profiles in year two</a></h3>
      <time datetime="2026-10-30">Oct 30</time></article>
    <article class="card"><h3><a href="/news/pilot">The pilot's first report</a></h3></article>
  </div>
  <nav class="pagination"><a href="/news/?page=2">Next</a></nav>
</main>
<aside><h2>Popular</h2><ul><li><a href="/news/old-1">Old one</a></li>
<li><a href="/news/old-2">Old two</a></li><li><a href="/news/old-3">Old three</a></li></ul></aside>
<footer><a href="/privacy/">Privacy</a> <a href="/terms/">Terms</a> <a href="/jobs/">Jobs</a></footer>
</body></html>"""  # noqa: E501

HTML = "text/html; charset=utf-8"


def site(routes: dict[str, Route | str]) -> SiteServer:
    server = SiteServer()
    for path, route in routes.items():
        server.add(path, route if isinstance(route, Route) else Route(route, content_type=HTML))
    return server


@pytest.fixture
def sites() -> Iterator[dict[str, SiteServer]]:
    servers = {
        "alternate": site({}),
        "usual": site({}),
        "sitemap": site({}),
        "page": site({}),
        "nothing": site({}),
    }
    for server in servers.values():
        server.start()
    alt, usual, smap = servers["alternate"], servers["usual"], servers["sitemap"]
    alt.add(
        "/blog/",
        Route(
            '<html><head><title>Blog — Hazel Institute</title><link rel="alternate" '
            'type="application/rss+xml" href="/blog/updates.rss"></head><body><p>Hi</p>'
            "</body></html>",
            content_type=HTML,
        ),
    )
    alt.add(
        "/blog/updates.rss",
        Route(RSS.format(base=alt.base_url), content_type="application/rss+xml"),
    )
    usual.add("/", Route("<html><head><title>Ivy</title></head><body>x</body></html>"))
    usual.add("/rss.xml", Route(RSS.format(base=usual.base_url), content_type="text/xml"))
    smap.add("/", Route("<html><head><title>Larch</title></head><body>x</body></html>"))
    smap.add(
        "/robots.txt", Route("User-agent: *\nSitemap: /maps/all.xml\n", content_type="text/plain")
    )
    smap.add("/maps/all.xml", Route(SITEMAP.format(base=smap.base_url), content_type="text/xml"))
    servers["page"].add("/news/", Route(NEWS_PAGE, content_type=HTML))
    servers["nothing"].add("/", Route("<html><body><p>Just a page.</p></body></html>"))
    yield servers
    for server in servers.values():
        server.stop()


def config_for(tmp_path: Path, servers: dict[str, SiteServer], sources: str = "") -> Path:
    allow = [s.host_port for s in servers.values()]
    return write_config(
        tmp_path, "# our sources, by hand\ntopics:\n  - name: Policy\n" + sources, allow
    )


def run(config: Path, *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(cli, ["--config", str(config), *args])
    return result.exit_code, result.stdout, result.stderr


def test_a_feed_named_by_rel_alternate(tmp_path: Path, sites) -> None:
    config = config_for(tmp_path, sites)
    code, out, _ = run(config, "discover", sites["alternate"].url("/blog/"))
    assert code == 0
    feed = sites["alternate"].url("/blog/updates.rss")
    assert out == (
        f"# found a feed with 2 items, newest 2026-11-17: {feed}\n"
        '  - name: "Hazel Institute"\n'
        f'    url: "{feed}"\n'
        "    kind: feed\n"
    )


def test_a_feed_at_a_usual_path_and_a_sitemap_named_in_robots(tmp_path: Path, sites) -> None:
    config = config_for(tmp_path, sites)
    code, out, _ = run(config, "discover", sites["usual"].url("/"))
    assert code == 0 and f'url: "{sites["usual"].url("/rss.xml")}"' in out
    code, out, _ = run(config, "discover", sites["sitemap"].url("/"))
    assert code == 0 and "found a sitemap with 3 items, newest 2026-11-12" in out
    assert f'url: "{sites["sitemap"].url("/maps/all.xml")}"' in out and "kind: sitemap" in out


def test_a_list_page_gets_a_selector_for_exactly_its_items(tmp_path: Path, sites) -> None:
    config = config_for(tmp_path, sites)
    news = sites["page"].url("/news/")
    code, out, _ = run(config, "discover", news)
    assert code == 0 and "kind: page" in out and "found a list page with 4 items" in out
    selector = out.split('links: "', 1)[1].split('"', 1)[0]
    chosen = BeautifulSoup(NEWS_PAGE, "lxml").select(selector)
    assert [a["href"] for a in chosen] == [  # the four items: no nav, tag, pager or sidebar
        "/news/credit-flex",
        "/news/rubric-bank",
        "/news/profiles",
        "/news/pilot",
    ]


def test_a_site_with_nothing_to_follow(tmp_path: Path, sites) -> None:
    config = config_for(tmp_path, sites)
    code, out, err = run(config, "discover", sites["nothing"].url("/"))
    assert code == 1 and out == ""
    assert f"found no feed, sitemap or list of articles at {sites['nothing'].url('/')}" in err


def test_add_keeps_the_comments_and_checks_the_config(tmp_path: Path, sites) -> None:
    existing = (
        "sources:\n"
        "  # the first one we followed\n"
        "  - name: Old Friend\n"
        '    url: "https://old.example.org/feed"\n'
        "    kind: feed  # weekly\n"
        "\n"
        "# newsletter settings below\n"
        "newsletter:\n"
        "  title: Our Roundup\n"
    )
    config = config_for(tmp_path, sites, existing)
    before = config.read_text()
    code, out, _ = run(config, "discover", sites["usual"].url("/"), "--add")
    assert code == 0 and "added 'Ivy' to" in out and "ok (2 sources, 1 topics)" in out
    after = config.read_text()
    feed = sites["usual"].url("/rss.xml")
    entry = f'  - name: "Ivy"\n    url: "{feed}"\n    kind: feed\n'
    weekly = "    kind: feed  # weekly\n"
    assert after == before.replace(weekly, weekly + entry)
    assert [s.name for s in load_config(config).sources] == ["Old Friend", "Ivy"]

    code, _, err = run(config, "discover", sites["usual"].url("/"), "--add")
    assert code == 2 and "is in the config already, as 'Ivy'" in err
    assert config.read_text() == after  # nothing lost, nothing doubled


def test_the_sources_page_proposes_and_adds(tmp_path: Path, sites) -> None:
    config = config_for(
        tmp_path, sites, "sources:\n  - name: Old Friend\n    url: https://old.example.org/feed\n"
    )
    with Store(load_config(config).db_path) as store:
        add_user(store, "alice", PASSWORD)
    app = start_serve(config, "--no-scheduler")
    try:
        client = logged_in(app)
        token = csrf_from(client.get("/sources").text)
        news = sites["page"].url("/news/")
        shown = client.post("/sources/discover", data={"url": news, "csrf_token": token})
        assert shown.status_code == 200 and "Found a list page with 4 items" in shown.text
        assert "Juniper" not in config.read_text()  # looking writes nothing
        added = client.post("/sources/add", data={"url": news, "csrf_token": token})
        nothing = client.post(
            "/sources/discover", data={"url": sites["nothing"].url("/"), "csrf_token": token}
        )
    finally:
        app.stop()
    assert added.status_code == 200 and "Added Juniper Alliance to" in added.text
    assert [s.name for s in load_config(config).sources] == ["Old Friend", "Juniper Alliance"]
    assert "Found no feed, sitemap or list of articles" in nothing.text

"""`cbewatch fetch` reads every new item's page: fixture sites on 127.0.0.1, real SQLite,
real worker processes, the CLI."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cbewatch.config import load_config
from cbewatch.demo.server import Route, SiteServer
from cbewatch.extract import MAX_ATTEMPTS
from cbewatch.store import Store
from cbewatch.urls import canonical_url
from tests.conftest import FIXTURES
from tests.test_fetch import RSS, items, rss, run

DEMO = Path(__file__).parent.parent / "src/cbewatch/demo/sites"
ARTICLE = (FIXTURES / "extract" / "outlet-div-soup.html").read_bytes()
LEDGER_TEXT = json.loads((FIXTURES / "extract" / "outlet-div-soup.expected.json").read_text())


def config_for(tmp_path: Path, site: SiteServer, network: str = "") -> Path:
    path = tmp_path / "sources.yaml"
    path.write_text(
        "data_dir: var\nuser_agent: cbewatch-test/1.0\n"
        f'network:\n  allow_hosts: ["{site.host_port}"]\n{network}'
        f"sources:\n  - name: Ledger\n    url: {site.url('/feed.xml')}\n"
    )
    return path


def feed_of(site: SiteServer, *slugs: str) -> None:
    entries = [(site.url(f"/p/{s}"), f"Post {s}", f"<p>Teaser for {s}.</p>") for s in slugs]
    site.add("/feed.xml", Route(rss(entries), content_type=RSS))


def test_pages_are_read_once_and_stored_clean(tmp_path: Path, site: SiteServer) -> None:
    feed_of(site, "story", "report.pdf")
    site.add("/p/story", Route(ARTICLE))
    pdf = (DEMO / "elm-policy-center/reports/seat-time-2026.pdf").read_bytes()
    site.add("/p/report.pdf", Route(pdf, content_type="application/pdf"))
    config = config_for(tmp_path, site)
    result = run(config, "fetch")
    assert "read 2 of 2 pages, 0 duplicates" in result.output
    found = {i["url"].rsplit("/", 1)[1]: i for i in items(config)}
    story = found["story"]
    assert story["extracted_from"] == "page" and story["text"] == LEDGER_TEXT["text"]
    assert story["title"] == "Post story"  # the feed's own title is kept
    assert story["author"] == "Priya Castellanos" and story["language"] == "en-us"
    assert story["image"] == "https://ledger.example.org/img/lakeview-studio.jpg"
    for bad in ("<script", "onerror", "onclick", "javascript:", "<iframe", "<svg"):
        assert bad not in story["html"].lower()
    report = found["report.pdf"]
    assert report["extracted_from"] == "page" and "Carnegie unit" in report["text"]
    run(config, "fetch", "--all")
    assert len(site.hits_for("/p/story")) == 1 and len(site.hits_for("/p/report.pdf")) == 1


def test_unreadable_pages_fall_back_to_the_feed(tmp_path: Path, site: SiteServer) -> None:
    feed_of(site, "gone", "huge", "script-only", "image")
    site.add("/p/huge", Route(b"<html><body>" + b"<p>word </p>" * 50_000 + b"</body></html>"))
    site.add("/p/script-only", Route("<html><body><script>document.write('hi')</script>"))
    site.add("/p/image", Route(b"\x89PNG\r\n", content_type="image/png"))
    config = config_for(tmp_path, site, "  max_bytes: 200000\n")
    assert "read 0 of 4 pages" in run(config, "fetch").output
    found = {i["url"].rsplit("/", 1)[1]: i for i in items(config)}
    assert {i["extracted_from"] for i in found.values()} == {"feed"}
    assert found["huge"]["text"] == "Teaser for huge." and found["huge"]["html"].startswith("<p>")
    run(config, "fetch", "--all")
    for slug in ("gone", "huge", "script-only", "image"):
        assert len(site.hits_for(f"/p/{slug}")) == 1  # recorded, never asked again


def test_a_page_that_times_out_is_tried_a_few_times_then_given_up(
    tmp_path: Path, site: SiteServer
) -> None:
    feed_of(site, "slow", "fine")
    site.add("/p/slow", Route(ARTICLE, delay=1.0))
    site.add("/p/fine", Route(ARTICLE))
    config = config_for(tmp_path, site, "  deadline: 0.3\n")
    assert run(config, "fetch", "--all").exit_code == 0
    assert run(config, "fetch", "--all").exit_code == 0  # at once: the retry waits
    assert len(site.hits_for("/p/slow")) == 1
    with Store(load_config(config).db_path) as store:
        [(waits,)] = store.db.execute("SELECT read_after FROM items WHERE url LIKE '%/slow'")
    assert datetime.fromisoformat(waits) - datetime.now(UTC) > timedelta(minutes=9)
    for _ in range(MAX_ATTEMPTS):
        with Store(load_config(config).db_path) as store:  # as if the wait had passed
            store.db.execute("UPDATE items SET read_after = NULL")
            store.db.conn.commit()
        assert run(config, "fetch", "--all").exit_code == 0
    assert len(site.hits_for("/p/slow")) == MAX_ATTEMPTS
    assert len(site.hits_for("/p/fine")) == 1
    slow = next(i for i in items(config) if i["url"].endswith("/slow"))
    assert slow["extracted_from"] == "feed" and slow["text"] == "Teaser for slow."


def test_an_endless_page_never_holds_up_the_rest(tmp_path: Path, site: SiteServer) -> None:
    feed_of(site, "endless", "fine")
    site.add("/p/endless", Route(b"<p>more</p>" * 10_000, drip=0.001))  # 110 s of bytes
    site.add("/p/fine", Route(ARTICLE))
    config = config_for(tmp_path, site, "  deadline: 1\n")
    assert run(config, "fetch").exit_code == 0
    found = {i["url"].rsplit("/", 1)[1]: i["extracted_from"] for i in items(config)}
    assert found == {"endless": "feed", "fine": "page"}


def test_copies_across_sources_list_as_duplicates(tmp_path: Path, site: SiteServer) -> None:
    site.add("/p/story", Route(ARTICLE))
    intro = b'<div class="para">We share this report from the Ledger with our members.</div>'
    reposted = ARTICLE.replace(
        b'<div class="para">Lakeview Unified', intro + b'<div class="para">Lakeview Unified'
    )
    site.add("/repost/lakeview", Route(reposted.replace(b'rel="canonical"', b'rel="x"')))
    site.add("/a.xml", Route(rss([(site.url("/p/story"), "Lakeview", "")]), content_type=RSS))
    later = rss([(site.url("/repost/lakeview"), "Repost", "")]).replace("02 Nov", "05 Nov")
    site.add("/b.xml", Route(later, content_type=RSS))
    path = tmp_path / "sources.yaml"
    path.write_text(
        f'data_dir: var\nnetwork:\n  allow_hosts: ["{site.host_port}"]\nsources:\n'
        f"  - name: Ledger\n    url: {site.url('/a.xml')}\n"
        f"  - name: Union\n    url: {site.url('/b.xml')}\n"
    )
    assert "1 duplicate" in run(path, "fetch").output
    [copy] = items(path, "--status", "duplicate")
    [primary] = items(path, "--status", "new")
    assert copy["source"] == "Union" and copy["duplicate_of"] == primary["id"]
    assert primary["also_at"] == [{"url": site.url("/repost/lakeview"), "source": "Union"}]


def test_a_same_site_canonical_becomes_the_key_and_nothing_read_is_none(
    tmp_path: Path, site: SiteServer
) -> None:
    """A page naming its canonical URL on its own site gives the item that key (so the
    canonical address seen later is the same item); an item with neither a readable page
    nor any feed text is recorded as extracted from `none`."""
    canonical = site.url("/2026/11/lakeview-proficiency-diploma/")
    page = ARTICLE.replace(
        b"https://ledger.example.org/2026/11/lakeview-proficiency-diploma/", canonical.encode()
    )
    site.add("/p/print-view", Route(page))
    site.add("/p/elsewhere", Route(ARTICLE))  # names a canonical on another site
    entries = [
        (site.url("/p/print-view"), "Post print-view", "<p>Teaser.</p>"),
        (site.url("/p/elsewhere"), "Post elsewhere", "<p>Teaser.</p>"),
        (site.url("/p/gone"), "Nothing to read", ""),  # no feed text, and a 404 page
    ]
    site.add("/feed.xml", Route(rss(entries), content_type=RSS))
    config = config_for(tmp_path, site)
    assert run(config, "fetch").exit_code == 0
    found = {i["url"].rsplit("/", 1)[1]: i for i in items(config)}
    assert found["print-view"]["canonical_url"] == canonical_url(canonical)
    assert found["elsewhere"]["canonical_url"] == canonical_url(site.url("/p/elsewhere"))
    assert found["gone"]["extracted_from"] == "none" and not found["gone"]["text"]
    # The canonical address, met later in a feed, is the same item.
    site.add("/feed.xml", Route(rss([(canonical, "Same story", "")]), content_type=RSS))
    run(config, "fetch", "--all")
    assert len(items(config)) == 3


def two_sites(tmp_path: Path, good: SiteServer, slow: SiteServer, network: str) -> Path:
    """Good (one quick page) and Slow (six pages that take their time), on two hosts."""
    good.add(
        "/feed.xml", Route(rss([(good.url("/p/g"), "Good post", "<p>G.</p>")]), content_type=RSS)
    )
    good.add("/p/g", Route(ARTICLE))
    entries = [(slow.url(f"/p/{n}"), f"Slow post {n}", f"<p>S{n}.</p>") for n in range(6)]
    slow.add("/feed.xml", Route(rss(entries), content_type=RSS))
    for n in range(6):
        slow.add(f"/p/{n}", Route(ARTICLE, drip=0.2))  # a byte every 0.2 s: never done
    path = tmp_path / "sources.yaml"
    path.write_text(
        "data_dir: var\nuser_agent: cbewatch-test/1.0\n"
        f'network:\n  allow_hosts: ["{good.host_port}", "{slow.host_port}"]\n{network}'
        f"sources:\n  - name: Good\n    url: {good.url('/feed.xml')}\n"
        f"  - name: Slow\n    url: {slow.url('/feed.xml')}\n"
    )
    return path


def slow_hits(slow: SiteServer) -> int:
    return sum(len(slow.hits_for(f"/p/{n}")) for n in range(6))


def test_slow_pages_cost_one_run_its_budget_and_never_a_named_fetch(tmp_path: Path) -> None:
    """A site whose pages drip: the run gives up on them when its budget is spent (they
    wait, untried, for the next), tries no other page of that site once one timed out,
    and a later `fetch --source Good` never reads them at all."""
    with SiteServer() as good, SiteServer(host="127.0.0.2") as slow:
        config = two_sites(tmp_path, good, slow, "  deadline: 1\n  run_budget: 2.5\n")
        first = run(config, "fetch", "--source", "Slow")
        assert first.exit_code == 0 and "pages left for the next run" in first.output
        assert slow_hits(slow) == 2  # per_host 2; the other four wait (the site timed out)
        with Store(load_config(config).db_path) as store:
            rows = store.db.execute(
                "SELECT extract_attempts, read_after FROM items WHERE source = 'Slow'"
            ).fetchall()
        assert sorted(a for a, _ in rows) == [0, 0, 0, 0, 1, 1]
        assert sum(1 for _, after in rows if after) == 2  # the two tried back off
        good_run = run(config, "fetch", "--source", "Good")
        assert "polled 1 source: 1 new item" in good_run.output
        assert "read 1 of 1 pages" in good_run.output  # Good's page, and only it
        assert slow_hits(slow) == 2 and len(good.hits_for("/p/g")) == 1


def test_one_cbewatch_reads_pages_at_a_time(tmp_path: Path, site: SiteServer) -> None:
    """A fetch started while another cbewatch (serve's poll) is reading pages leaves
    them to it rather than reading the same pages twice."""
    import fcntl

    feed_of(site, "story")
    site.add("/p/story", Route(ARTICLE))
    config = config_for(tmp_path, site)
    data = load_config(config).data_dir
    data.mkdir(parents=True, exist_ok=True)
    with open(data / "pages.lock", "a") as held:
        fcntl.flock(held, fcntl.LOCK_EX)  # as the other process holds it
        busy = run(config, "fetch")
    assert "pages left to the other cbewatch reading them" in busy.output
    assert site.hits_for("/p/story") == []
    assert "read 1 of 1 pages" in run(config, "fetch").output  # free again: read now

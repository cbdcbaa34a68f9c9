"""`cbewatch fetch` end to end: fixture sites on 127.0.0.1, a real SQLite file, the CLI."""

from __future__ import annotations

import gzip
import json
import os
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from cbewatch.cli import cli
from cbewatch.config import load_config
from cbewatch.demo.server import Route, SiteServer
from tests.conftest import child_env, planner_stats, write_config

RSS = "application/rss+xml; charset=utf-8"


def rss(items: list[tuple[str, str, str]], extra: str = "", encoding: str = "utf-8") -> str:
    """An RSS 2.0 feed of (url, title, description-html) items."""
    body = "".join(
        f"<item><title>{title}</title><link>{url}</link>"
        f"<description><![CDATA[{summary}]]></description>"
        "<pubDate>Mon, 02 Nov 2026 10:00:00 GMT</pubDate></item>"
        for url, title, summary in items
    )
    return (
        f'<?xml version="1.0" encoding="{encoding}"?>'
        '<rss version="2.0" xmlns:atom="http://www.w3.org/2005/Atom"><channel>'
        f"<title>Fixture</title><link>http://example.org/</link>{extra}{body}</channel></rss>"
    )


def sources_yaml(*sources: tuple[str, str], extra: str = "") -> str:
    lines = ["sources:"]
    for name, url in sources:
        lines += [f"  - name: {name}", f"    url: {url}"]
        if extra:
            lines.append(extra)
    return "\n".join(lines) + "\n"


def run(config: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)


def items(config: Path, *args: str) -> list[dict]:
    result = run(config, "items", "--json", *args)
    assert result.exit_code == 0, result.output
    return [json.loads(line) for line in result.output.splitlines()]


def health(config: Path) -> dict[str, dict]:
    result = run(config, "sources", "--json")
    assert result.exit_code == 0, result.output
    return {row["name"]: row for row in map(json.loads, result.output.splitlines())}


def post(site: SiteServer, slug: str, title: str = "", summary: str = "") -> tuple[str, str, str]:
    return (site.url(f"/posts/{slug}"), title or f"Post {slug}", summary or f"<p>About {slug}.</p>")


def test_feed_items_land_once_with_the_design_fields(tmp_path: Path, site: SiteServer) -> None:
    feed = rss([post(site, "a", "Mastery grading, year one"), post(site, "b")])
    site.add("/feed.xml", Route(feed, content_type=RSS))
    config = write_config(
        tmp_path, sources_yaml(("Alder", site.url("/feed.xml"))), [site.host_port]
    )
    result = run(config, "fetch")
    assert result.exit_code == 0
    assert result.output.strip() == (
        "polled 1 source: 2 new items, 0 not modified, 0 failed; read 0 of 2 pages, 0 duplicates"
    )
    found = items(config)
    assert {i["title"] for i in found} == {"Mastery grading, year one", "Post b"}
    first = next(i for i in found if i["url"].endswith("/a"))
    for key in ("id", "url", "canonical_url", "summary", "summary_text", "published", "author"):
        assert key in first
    assert first["status"] == "new" and first["source"] == "Alder" and first["also_at"] == []
    assert first["published"] == "2026-11-02T10:00:00Z" and first["first_seen"]
    assert first["summary_text"] == "About a."
    # The first fetch gave SQLite's query planner its statistics: both items counted.
    db_path = load_config(config).db_path
    assert planner_stats(db_path)["items_queue"].split()[0] == "2"
    assert run(config, "fetch", "--all").output.startswith("polled 1 source: 0 new items")
    assert len(items(config)) == 2


def test_conditional_get_and_body_hash(tmp_path: Path, site: SiteServer) -> None:
    with_etag = Route(rss([post(site, "a")]), content_type=RSS, etag='"v1"')
    no_validators = Route(rss([post(site, "b")]), content_type=RSS)
    site.add("/etag.xml", with_etag)
    site.add("/plain.xml", no_validators)
    config = write_config(
        tmp_path,
        sources_yaml(("E", site.url("/etag.xml")), ("P", site.url("/plain.xml"))),
        [site.host_port],
    )
    assert "2 new items" in run(config, "fetch", "--all").output
    result = run(config, "fetch", "--all")
    assert "0 new items, 2 not modified, 0 failed" in result.output
    assert site.hits_for("/etag.xml")[-1].headers["if-none-match"] == '"v1"'
    state = health(config)
    assert state["E"]["last_status"] == 304 and state["P"]["last_status"] == 200
    no_validators.body = rss([post(site, "b"), post(site, "c")])
    assert "1 new item," in run(config, "fetch", "--all").output


def test_same_article_in_two_sources_is_one_item(tmp_path: Path, site: SiteServer) -> None:
    original = site.url("/posts/release")
    site.add("/a.xml", Route(rss([(original, "Statewide pilot", "")]), content_type=RSS))
    variant = original + "/?utm_source=rss&utm_medium=feed#top"
    site.add("/b.xml", Route(rss([(variant, "Statewide pilot (repost)", "")]), content_type=RSS))
    config = write_config(
        tmp_path,
        sources_yaml(("A", site.url("/a.xml")), ("B", site.url("/b.xml"))),
        [site.host_port],
    )
    run(config, "fetch")
    [item] = items(config)
    other = "B" if item["source"] == "A" else "A"
    assert len(item["also_at"]) == 1 and item["also_at"][0]["source"] == other


def test_include_and_exclude_filters(tmp_path: Path, site: SiteServer) -> None:
    feed = rss(
        [
            post(site, "1", "A competency-based diploma"),
            post(site, "2", "Football scores"),
            post(site, "3", "Mastery of the violin", "<p>Music program.</p>"),
            post(site, "4", "School board news", "<p>Proficiency-based grading adopted.</p>"),
        ]
    )
    site.add("/feed.xml", Route(feed, content_type=RSS))
    config = write_config(
        tmp_path,
        sources_yaml(
            ("News", site.url("/feed.xml")),
            extra="    include: [competenc, mastery, proficiency]\n    exclude: [violin]",
        ),
        [site.host_port],
    )
    run(config, "fetch")
    assert sorted(i["url"][-1] for i in items(config)) == ["1", "4"]


def test_first_poll_follows_next_pages_up_to_max_pages(tmp_path: Path, site: SiteServer) -> None:
    for page in range(1, 6):
        nxt = f'<atom:link rel="next" href="{site.url(f"/feed-{page + 1}.xml")}"/>'
        site.add(f"/feed-{page}.xml", Route(rss([post(site, f"p{page}")], nxt), content_type=RSS))
    config = write_config(
        tmp_path,
        sources_yaml(("Paged", site.url("/feed-1.xml")), extra="    max_pages: 3"),
        [site.host_port],
    )
    run(config, "fetch")
    assert sorted(i["url"][-2:] for i in items(config)) == ["p1", "p2", "p3"]
    site.routes["/feed-1.xml"].body = rss([post(site, "new")], "")  # type: ignore[union-attr]
    run(config, "fetch", "--all")
    assert len(site.hits_for("/feed-2.xml")) == 1  # not followed again after the first poll
    assert len(items(config)) == 4


def test_list_page_and_sitemap_sources(tmp_path: Path, site: SiteServer) -> None:
    page = (
        "<html><body><nav><a href='/about'>About</a></nav><main>"
        "<article><h2><a href='/news/one'>Graduate profiles in practice</a></h2></article>"
        "<article><h2><a href='two'>Seat time waivers explained</a></h2></article>"
        "</main><aside><a href='/donate'>Donate</a></aside></body></html>"
    )
    site.add("/news/", Route(page))
    today = time.strftime("%Y-%m-%d")
    sitemap = (
        '<?xml version="1.0"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
        f"<url><loc>{site.url('/2026/11/new-learner-profile/')}</loc><lastmod>{today}</lastmod></url>"
        f"<url><loc>{site.url('/2019/01/old-post/')}</loc><lastmod>2019-01-01</lastmod></url>"
        "</urlset>"
    )
    site.add("/sitemap.xml", Route(sitemap, content_type="application/xml"))
    body = (
        "sources:\n"
        f"  - name: Dogwood\n    url: {site.url('/news/')}\n    kind: page\n"
        '    links: "article h2 a"\n'
        f"  - name: Elm\n    url: {site.url('/sitemap.xml')}\n    kind: sitemap\n"
    )
    config = write_config(tmp_path, body, [site.host_port])
    assert run(config, "fetch").exit_code == 0
    by_source = {(i["source"], i["url"]): i for i in items(config)}
    assert ("Dogwood", site.url("/news/one")) in by_source
    assert by_source[("Dogwood", site.url("/news/two"))]["title"] == "Seat time waivers explained"
    assert [u for s, u in by_source if s == "Elm"] == [site.url("/2026/11/new-learner-profile/")]


def test_mislabelled_encodings_give_clean_titles(tmp_path: Path, site: SiteServer) -> None:
    cp1252 = rss([(site.url("/q"), "Teachers’ “voice” – a study", "")]).encode("cp1252")
    site.add("/cp.xml", Route(cp1252, content_type=RSS))  # says UTF-8, sends cp1252
    latin = rss([(site.url("/l"), "Élèves à l’école", "")], encoding="iso-8859-1").encode("utf-8")
    site.add("/latin.xml", Route(latin, content_type="application/rss+xml; charset=iso-8859-1"))
    config = write_config(
        tmp_path,
        sources_yaml(("C", site.url("/cp.xml")), ("L", site.url("/latin.xml"))),
        [site.host_port],
    )
    run(config, "fetch")
    titles = {i["source"]: i["title"] for i in items(config)}
    assert titles == {"C": "Teachers’ “voice” – a study", "L": "Élèves à l’école"}


HOSTILE = [
    "<script>alert(1)</script>Real title",
    '<img src=x onerror="alert(1)">Image title',
    '<a href="javascript:alert(1)">Link</a> title',
    '<a href="&#106;avascript:alert(1)">Encoded</a> title',
    '<iframe src="https://evil.example/"></iframe>Frame title',
    '<p style="width: expression(alert(1))">Styled</p> title',
    '<svg onload="alert(1)"><circle/></svg>Svg title',
]


def test_hostile_markup_is_never_stored(tmp_path: Path, site: SiteServer) -> None:
    entries = []
    for n, html in enumerate(HOSTILE):
        title = html.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        entries.append((site.url(f"/h{n}"), title, html))
    site.add("/feed.xml", Route(rss(entries), content_type=RSS))
    config = write_config(
        tmp_path, sources_yaml(("Hostile", site.url("/feed.xml"))), [site.host_port]
    )
    assert run(config, "fetch").exit_code == 0
    stored = items(config)
    assert len(stored) == len(HOSTILE)
    for item in stored:
        blob = (item["title"] + item["summary"] + item["summary_text"]).lower()
        for bad in (
            "<script",
            "onerror",
            "onload",
            "javascript:",
            "<iframe",
            "expression(",
            "<svg",
        ):
            assert bad not in blob, (bad, item)


def gzip_bomb() -> bytes:
    return gzip.compress(b"\0" * 200_000_000, compresslevel=9)


BAD_SOURCES: dict[str, tuple[Route, str]] = {
    "missing": (Route("no", status=404), "HTTP 404"),
    "broken": (Route("oops", status=500), "HTTP 500"),
    "busy": (Route("later", status=429, headers={"Retry-After": "3600"}), "HTTP 429"),
    "huge": (Route(b"<rss>" + b" " * 30_000_000, content_type=RSS), "larger than"),
    "bomb": (Route(gzip_bomb(), content_type=RSS, headers={"Content-Encoding": "gzip"}), "larger"),
    "drip": (Route(rss([]), content_type=RSS, drip=1.0), "longer than"),
    "laughs": (
        Route(
            '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
            + "".join(
                f'<!ENTITY lol{i} "{("&lol" + (str(i - 1) if i > 1 else "") + ";") * 10}">'
                for i in range(1, 10)
            )
            + ']><rss version="2.0"><channel><title>&lol9;</title></channel></rss>',
            content_type=RSS,
        ),
        "declares its own XML entities",
    ),
    "html": (Route("<html><body>Just a page</body></html>"), "not an RSS, Atom or JSON feed"),
}


def test_bad_sources_are_recorded_and_the_rest_carries_on(tmp_path: Path, site: SiteServer) -> None:
    site.add("/good.xml", Route(rss([post(site, "good")]), content_type=RSS))
    site.add("/gone.xml", Route("gone", status=410))
    site.add("/loop", Route("", status=302, headers={"Location": "/loop2"}))
    site.add("/loop2", Route("", status=302, headers={"Location": "/loop"}))
    sources = [
        ("good", site.url("/good.xml")),
        ("gone", site.url("/gone.xml")),
        ("loop", site.url("/loop")),
    ]
    for name, (route, _) in BAD_SOURCES.items():
        sources.append((name, site.add(f"/{name}.xml", route)))
    config = write_config(tmp_path, sources_yaml(*sources), [site.host_port])
    config.write_text(config.read_text().replace("network:\n", "network:\n  deadline: 3\n"))
    result = run(config, "fetch")
    assert result.exit_code == 0, result.output
    assert result.output.startswith(f"polled {len(sources)} sources: 1 new item,")
    assert "(see cbewatch sources)" in result.output
    state = health(config)
    assert state["good"]["health"] == "ok" and state["good"]["items"] == 1
    assert state["gone"]["health"] == "retired" and "410" in state["gone"]["last_error"]
    assert "redirect" in state["loop"]["last_error"].lower()
    for name, (_, words) in BAD_SOURCES.items():
        assert state[name]["health"] == "failing", (name, state[name])
        assert words.lower() in state[name]["last_error"].lower(), (name, state[name])
        assert state[name]["last_error"].endswith("."), state[name]["last_error"]
    assert state["busy"]["next_poll"] > state["broken"]["last_polled"]
    # The retired source is no longer polled; the busy one waits for its Retry-After.
    hits_before = len(site.hits_for("/gone.xml")), len(site.hits_for("/busy.xml"))
    run(config, "fetch", "--all")
    run(config, "fetch")
    assert (len(site.hits_for("/gone.xml")), len(site.hits_for("/busy.xml"))) == (
        hits_before[0],
        hits_before[1] + 1,
    )
    assert "retired" in run(config, "sources").output


def test_private_addresses_are_never_reached(tmp_path: Path, site: SiteServer) -> None:
    with SiteServer(host="127.0.0.2") as private:
        private.add("/feed.xml", Route(rss([post(private, "secret")]), content_type=RSS))
        feed = rss(
            [
                (private.url("/posts/x"), "Loopback link", ""),
                ("http://169.254.169.254/latest/meta-data/", "Metadata link", ""),
                ("file:///etc/passwd", "File link", ""),
                post(site, "fine"),
            ],
            f'<atom:link rel="next" href="{private.url("/feed.xml")}"/>',
        )
        site.add("/feed.xml", Route(feed, content_type=RSS))
        site.add("/redirect", Route("", status=302, headers={"Location": private.url("/feed.xml")}))
        config = write_config(
            tmp_path,
            sources_yaml(
                ("links", site.url("/feed.xml")),
                ("redirect", site.url("/redirect")),
                ("direct", private.url("/feed.xml")),
            ),
            [site.host_port],
        )
        assert run(config, "fetch").exit_code == 0
        assert private.hits == []
        assert [i["url"] for i in items(config)] == [site.url("/posts/fine")]
        state = health(config)
        assert "not allowed" in state["redirect"]["last_error"]
        assert "not allowed" in state["direct"]["last_error"]


def test_fetch_named_source_only(tmp_path: Path, site: SiteServer) -> None:
    site.add("/a.xml", Route(rss([post(site, "a")]), content_type=RSS))
    site.add("/b.xml", Route(rss([post(site, "b")]), content_type=RSS))
    config = write_config(
        tmp_path,
        sources_yaml(("A", site.url("/a.xml")), ("B", site.url("/b.xml"))),
        [site.host_port],
    )
    assert run(config, "fetch", "--source", "B").output.startswith("polled 1 source: 1 new item")
    assert site.hits_for("/a.xml") == []
    result = CliRunner().invoke(cli, ["--config", str(config), "fetch", "--source", "Nope"])
    assert result.exit_code == 2 and "no source named 'Nope'" in result.output


def test_a_crash_mid_fetch_keeps_finished_sources_whole(tmp_path: Path, site: SiteServer) -> None:
    """Kill -9 while one source is still in flight: the finished one is stored whole."""
    site.add("/fast.xml", Route(rss([post(site, f"f{n}") for n in range(20)]), content_type=RSS))
    site.add("/slow.xml", Route(rss([post(site, "s")]), content_type=RSS, delay=30))
    config = write_config(
        tmp_path,
        sources_yaml(("fast", site.url("/fast.xml")), ("slow", site.url("/slow.xml"))),
        [site.host_port],
    )
    env = child_env()
    proc = subprocess.Popen(
        [sys.executable, "-m", "cbewatch", "--config", str(config), "fetch"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    db = tmp_path / "var" / "cbewatch.db"
    deadline = time.monotonic() + 20
    count = 0
    while time.monotonic() < deadline and count < 20:
        time.sleep(0.1)
        try:
            conn = sqlite3.connect(db)
            count = conn.execute("SELECT count(*) FROM items").fetchone()[0]
            conn.close()
        except sqlite3.Error:
            pass
    helpers = _descendants(proc.pid)  # the fork server and its parsing workers
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    assert count == 20
    assert helpers, "the fetch should have started its worker processes by now"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and any(_alive(pid) for pid in helpers):
        time.sleep(0.1)
    assert not [pid for pid in helpers if _alive(pid)], "workers outlived a killed fetch"
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    rows = dict(conn.execute("SELECT name, last_polled FROM sources").fetchall())
    assert rows["fast"] is not None and rows["slow"] is None
    assert conn.execute("SELECT count(*) FROM items WHERE source = 'slow'").fetchone()[0] == 0


def test_the_commands_workers_fork_from_a_server_that_preloads_the_command(
    tmp_path: Path, site: SiteServer
) -> None:
    """Every new worker runs the program's main module again (the `cbewatch` script, which
    imports the whole CLI); the script's fork server preloads the CLI beside the parsers
    and extraction, so that costs a worker nothing."""
    site.add("/slow.xml", Route(rss([post(site, "s")]), content_type=RSS, delay=30))
    site.add("/fast.xml", Route(rss([post(site, "f")]), content_type=RSS))
    config = write_config(
        tmp_path,
        sources_yaml(("fast", site.url("/fast.xml")), ("slow", site.url("/slow.xml"))),
        [site.host_port],
    )
    script = Path(sys.executable).parent / "cbewatch"  # what the operator runs
    proc = subprocess.Popen(
        [str(script), "--config", str(config), "fetch"],
        env=child_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        preloads: list[str] = []
        deadline = time.monotonic() + 20
        while not preloads and time.monotonic() < deadline:
            time.sleep(0.1)
            for pid in _descendants(proc.pid):
                try:
                    command = Path(f"/proc/{pid}/cmdline").read_bytes().decode()
                except OSError:
                    continue
                if "forkserver import main" in command:
                    preloads.append(command)
        assert preloads, "the fetch should have started its fork server by now"
        for module in ("cbewatch.cli", "cbewatch.sources.poll", "cbewatch.extract"):
            assert f"'{module}'" in preloads[0], preloads[0]
    finally:
        proc.kill()
        proc.wait()


def _descendants(root: int) -> list[int]:
    """Every process below `root`, from /proc (Linux)."""
    parents = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # gone meanwhile
        parents[int(stat.parent.name)] = int(fields[1])
    found, frontier = [], [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"  # a zombie has exited; its parent just has not reaped it yet


@pytest.mark.parametrize("argv", [["--help"], ["fetch", "--help"], ["items", "--help"]])
def test_help_is_available(argv: list[str]) -> None:
    result = CliRunner().invoke(cli, argv)
    assert result.exit_code == 0 and "Usage:" in result.output


def test_progress_bar_on_a_terminal_only(tmp_path: Path, site: SiteServer) -> None:
    """With stderr on a terminal, fetch draws a progress bar; the summary is on stdout."""
    import pty

    site.add("/a.xml", Route(rss([post(site, "a")]), content_type=RSS))
    config = write_config(tmp_path, sources_yaml(("A", site.url("/a.xml"))), [site.host_port])
    leader, follower = pty.openpty()
    env = child_env(COLUMNS="100")
    drawn = bytearray()

    def read_terminal() -> None:
        # Read as the bar is drawn: a slow run draws more frames than the terminal's
        # buffer holds, and a child writing to a full terminal waits forever.
        while True:
            try:
                chunk = os.read(leader, 4096)
            except OSError:
                return
            if not chunk:
                return
            drawn.extend(chunk)

    reader = threading.Thread(target=read_terminal)
    reader.start()
    proc = subprocess.run(
        [sys.executable, "-m", "cbewatch", "--config", str(config), "fetch"],
        env=env,
        stdout=subprocess.PIPE,
        stderr=follower,
        timeout=60,
        check=True,
    )
    os.close(follower)
    reader.join(10)
    os.close(leader)
    assert b"polling" in drawn
    assert (
        proc.stdout.decode()
        .strip()
        .startswith("polled 1 source: 1 new item, 0 not modified, 0 failed; read ")
    )


def test_odd_links_dates_and_headers_cost_nothing_but_themselves(
    tmp_path: Path, site: SiteServer
) -> None:
    """Malformed links, dates out of range, absurd Retry-After, non-ASCII validators and
    escaped markup: each is dropped or neutralized, the run and the other items go on."""
    feed = rss(
        [
            ("http://[::1", "Broken IPv6 link", ""),
            ("http://[zz]/", "Bad host", ""),
            ("http://e.example:99999/x", "Bad port", ""),
            post(site, "fine", "Fine", "<p>&lt;svg onload=alert(1)&gt; escaped markup</p>"),
        ]
    )
    site.add("/feed.xml", Route(feed, content_type=RSS, headers={"ETag": '"caf\u00e9"'}))
    atom = (
        '<feed xmlns="http://www.w3.org/2005/Atom"><title>t</title>'
        f'<entry><title>Year one</title><link href="{site.url("/old")}"/>'
        "<updated>0001-01-01T00:00:00+01:00</updated></entry></feed>"
    )
    site.add("/atom.xml", Route(atom, content_type="application/atom+xml"))
    json_feed = json.dumps(
        {
            "version": "https://jsonfeed.org/version/1.1",
            "title": "j",
            "items": [
                {
                    "id": "1",
                    "url": site.url("/far"),
                    "title": "Far future",
                    "date_published": "9999-12-31T23:59:59-01:00",
                },
            ],
        }
    )
    site.add("/feed.json", Route(json_feed, content_type="application/feed+json"))
    site.add("/busy", Route("", status=503, headers={"Retry-After": "9" * 30}))
    site.add("/later", Route("", status=503, headers={"Retry-After": "120"}))
    config = write_config(
        tmp_path,
        sources_yaml(
            ("rss", site.url("/feed.xml")),
            ("atom", site.url("/atom.xml")),
            ("json", site.url("/feed.json")),
            ("busy", site.url("/busy")),
            ("later", site.url("/later")),
        ),
        [site.host_port],
    )
    first = run(config, "fetch")
    assert first.output.startswith("polled 5 sources: 3 new items, 0 not modified, 2 failed")
    stored = {i["title"]: i for i in items(config)}
    assert set(stored) == {"Fine", "Year one", "Far future"}
    assert (
        "<svg" not in stored["Fine"]["summary_text"]
        and "escaped markup" in (stored["Fine"]["summary_text"])
    )
    assert stored["Year one"]["published"] == stored["Year one"]["first_seen"]
    state = health(config)
    assert state["busy"]["health"] == "failing" and "HTTP 503" in state["busy"]["last_error"]
    polled = datetime.fromisoformat(state["later"]["last_polled"])
    assert datetime.fromisoformat(state["later"]["next_poll"]) - polled == timedelta(seconds=120)
    assert datetime.fromisoformat(state["busy"]["next_poll"]) - polled <= timedelta(days=7)
    again = run(config, "fetch", "--source", "rss")  # the non-ASCII ETag was not kept
    assert again.output.startswith("polled 1 source: 0 new items, 1 not modified, 0 failed")
    assert "if-none-match" not in site.hits_for("/feed.xml")[-1].headers


def test_billion_laughs_is_refused_in_a_sentence(tmp_path: Path, site: SiteServer) -> None:
    route, _ = BAD_SOURCES["laughs"]
    site.add("/laughs.xml", route)
    config = write_config(
        tmp_path, sources_yaml(("laughs", site.url("/laughs.xml"))), [site.host_port]
    )
    assert run(config, "fetch").exit_code == 0
    state = health(config)["laughs"]
    assert state["health"] == "failing" and "declares its own XML entities" in state["last_error"]


def test_items_filters_from_the_command_line(tmp_path: Path, site: SiteServer) -> None:
    older = rss([(site.url("/oct"), "October post", "")]).replace(
        "Mon, 02 Nov 2026", "Mon, 05 Oct 2026"
    )
    site.add("/a.xml", Route(older, content_type=RSS))
    site.add("/b.xml", Route(rss([post(site, "nov")]), content_type=RSS))
    config = write_config(
        tmp_path,
        sources_yaml(("A", site.url("/a.xml")), ("B", site.url("/b.xml"))),
        [site.host_port],
    )
    run(config, "fetch")
    assert [i["source"] for i in items(config, "--source", "B")] == ["B"]
    assert [i["title"] for i in items(config, "--month", "2026-10")] == ["October post"]
    assert [i["source"] for i in items(config, "--since", "2026-11-01")] == ["B"]
    assert (
        len(items(config, "--status", "new")) == 2 and items(config, "--status", "rejected") == []
    )
    bad = CliRunner().invoke(cli, ["--config", str(config), "items", "--month", "Oct"])
    assert bad.exit_code == 2 and "not a month like 2026-11" in bad.output
    table = run(config, "items")
    assert "October post" in table.output and table.output.rstrip().endswith("2 items")


def test_two_fetches_at_once_store_each_article_once(tmp_path: Path, site: SiteServer) -> None:
    """Two processes polling the same sources into one database: no duplicates, no
    'database is locked', nothing half-written."""
    shared = [post(site, f"shared-{n}") for n in range(10)]
    for name in "abcd":
        own = [post(site, f"{name}-{n}") for n in range(10)]
        site.add(f"/{name}.xml", Route(rss(shared + own), content_type=RSS, delay=0.05))
    config = write_config(
        tmp_path, sources_yaml(*((n, site.url(f"/{n}.xml")) for n in "abcd")), [site.host_port]
    )
    env = child_env()
    command = [sys.executable, "-m", "cbewatch", "--config", str(config), "fetch", "--all"]
    procs = [
        subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        for _ in range(2)
    ]
    # Generous: each run starts its worker pool and reads 50 pages, on a busy CI machine.
    outputs = [p.communicate(timeout=240)[0].decode() for p in procs]
    assert all(p.returncode == 0 for p in procs), outputs
    assert all("0 failed" in out for out in outputs), outputs
    stored = items(config)
    assert len(stored) == 50 and len({i["canonical_url"] for i in stored}) == 50
    conn = sqlite3.connect(tmp_path / "var" / "cbewatch.db")
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"

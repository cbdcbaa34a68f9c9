"""Benchmark: polling 50 feeds × 20 items on 10 loopback hosts with 50 ms latency.

Compares `fetch --all` (run_fetch, which also sanitizes and stores the 1,000 items) with
a naive loop: one request after another, no validators, every feed parsed with
feedparser and nothing stored. Then polls again with nothing changed. The fixture
servers run in a child process so CPU time measures cbewatch alone.

Last line: `poll: speedup_vs_naive=X repoll_cost_ratio=Y` (goal X ≥ 6, Y ≤ 0.2).
"""

from __future__ import annotations

import multiprocessing
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import feedparser
import httpx

from cbewatch.config import load_config
from cbewatch.demo.server import Route, SiteServer
from cbewatch.pipeline import run_fetch
from cbewatch.store import Store

HOSTS = [f"127.0.0.{i}" for i in range(1, 11)]
FEEDS_PER_HOST = 5
ITEMS_PER_FEED = 20
LATENCY = 0.05


def feed_xml(host: str, feed: int) -> str:  # host is host:port
    start = datetime(2026, 11, 1, tzinfo=UTC)
    items = []
    for n in range(ITEMS_PER_FEED):
        when = format_datetime(start + timedelta(hours=n))
        items.append(
            f"<item><title>Competency-based learning update {feed}-{n} from {host}</title>"
            f"<link>http://{host}/posts/{feed}/{n}</link><guid>http://{host}/posts/{feed}/{n}</guid>"
            f"<pubDate>{when}</pubDate><author>team@example.org (Team)</author>"
            "<description>&lt;p&gt;Districts moving to &lt;b&gt;mastery-based&lt;/b&gt; "
            "grading share what their first year taught them about learner profiles, "
            "flexible pacing and student agency.&lt;/p&gt;</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Org {host} feed {feed}</title><link>http://{host}/</link>"
        f"<description>News</description>{''.join(items)}</channel></rss>"
    )


def serve(port_queue: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    servers = []
    for host in HOSTS:
        server = SiteServer(host=host, port=0)
        for feed in range(FEEDS_PER_HOST):
            body = feed_xml(server.host_port, feed)
            server.add(
                f"/feed-{feed}.xml",
                Route(
                    body,
                    content_type="application/rss+xml",
                    etag=f'"{host}-{feed}"',
                    delay=LATENCY,
                ),
            )
        servers.append(server.start())
    port_queue.put([s.host_port for s in servers])
    stop.wait()
    for server in servers:
        server.stop()


def naive(urls: list[str]) -> float:
    """What a first script would do: get each feed in turn and hand it to feedparser."""
    start = time.perf_counter()
    with httpx.Client(trust_env=False) as client:
        for url in urls:
            feedparser.parse(client.get(url).content)
    return time.perf_counter() - start


def warm_up(config: Path, url: str, host_port: str) -> None:
    """Both contenders once on one feed, so neither run pays for first imports."""
    naive([url])
    warm = config.parent / "warm"
    warm.mkdir()
    (warm / "sources.yaml").write_text(
        f'data_dir: var\nnetwork:\n  allow_hosts: ["{host_port}"]\n'
        f"sources:\n  - name: warm\n    url: {url}\n"
    )
    settings = load_config(warm / "sources.yaml")
    with Store(settings.db_path) as store:
        run_fetch(settings, store, poll_all=True)


def main() -> None:
    ports: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    child = multiprocessing.Process(target=serve, args=(ports, stop), daemon=True)
    child.start()
    host_ports = ports.get(timeout=30)
    urls = [f"http://{hp}/feed-{f}.xml" for hp in host_ports for f in range(FEEDS_PER_HOST)]
    try:
        with tempfile.TemporaryDirectory() as tmp:
            config = Path(tmp) / "sources.yaml"
            sources = "".join(f"  - name: feed {i}\n    url: {url}\n" for i, url in enumerate(urls))
            allow = "".join(f'    - "{hp}"\n' for hp in host_ports)
            config.write_text(
                f"data_dir: var\nnetwork:\n  allow_hosts:\n{allow}sources:\n{sources}"
            )
            settings = load_config(config)
            warm_up(config, urls[0], host_ports[0])
            naive_wall = naive(urls)
            with Store(settings.db_path) as store:
                wall, cpu, first = timed(lambda: run_fetch(settings, store, poll_all=True))
                _, recpu, second = timed(lambda: run_fetch(settings, store, poll_all=True))
    finally:
        stop.set()
        child.join(timeout=5)
    speedup = naive_wall / wall
    ratio = recpu / cpu
    print(f"naive loop: {naive_wall:.3f} s wall")
    print(f"fetch --all: {wall:.3f} s wall, {cpu:.3f} s CPU — {first.line()}")
    print(f"re-poll: {recpu:.3f} s CPU — {second.line()}")
    print(f"poll: speedup_vs_naive={speedup:.2f} repoll_cost_ratio={ratio:.3f}")
    sys.stdout.flush()


def timed(run):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), time.process_time()
    result = run()
    return time.perf_counter() - wall, time.process_time() - cpu, result


if __name__ == "__main__":
    main()

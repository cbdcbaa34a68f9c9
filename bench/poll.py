"""Benchmark: polling 50 feeds × 20 items on 10 loopback hosts with 50 ms latency.

Compares the polling stage of `fetch --all` (run_poll: the same polls, without the page
reading, dedup and ranking that bench/pipeline.py and bench/rank.py measure; it sanitizes
and stores the 1,000 items) with
a naive loop: one request after another, no validators, every feed parsed with
feedparser and nothing stored. Then polls again with nothing changed. The fixture
servers run in a child process whose CPU time is left out; cbewatch's worker processes'
time is counted.

Last line: `poll: speedup_vs_naive=X repoll_cost_ratio=Y` (goal X ≥ 6, Y ≤ 0.2).
"""

from __future__ import annotations

import multiprocessing
import os
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from pathlib import Path

import feedparser
import httpx

from cbewatch.config import Settings, load_config
from cbewatch.demo.server import Route, SiteServer
from cbewatch.pipeline import FetchSummary, run_poll
from cbewatch.services.sources import sync_sources
from cbewatch.store import Store
from cbewatch.workers import preload_for_program

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


def warm_up(folder: Path, url: str, host_port: str) -> None:
    """Both contenders once on one feed, so neither pays for first imports (or, for
    cbewatch, for starting its fork server: once per process)."""
    naive([url])
    warm = folder / "warm"
    warm.mkdir()
    (warm / "sources.yaml").write_text(
        f'data_dir: var\nnetwork:\n  allow_hosts: ["{host_port}"]\n'
        f"sources:\n  - name: warm\n    url: {url}\n"
    )
    settings = load_config(warm / "sources.yaml")
    with Store(settings.db_path) as store:
        poll(settings, store)


ROUNDS = 3  # the machine is noisy: report the median round


def poll(settings: Settings, store: Store) -> FetchSummary:
    """The polling stage of `fetch --all`: the config's sources synced, then polled."""
    sync_sources(store, settings)
    return run_poll(settings, store, poll_all=True)


def main() -> None:
    # Workers run this script again when they start: preload what it imports, as the
    # `cbewatch` command does for itself (see workers.preload_for_program).
    preload_for_program("cbewatch.cli", "cbewatch.demo.server")
    ports: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    child = multiprocessing.Process(target=serve, args=(ports, stop), daemon=True)
    child.start()
    host_ports = ports.get(timeout=30)
    urls = [f"http://{hp}/feed-{f}.xml" for hp in host_ports for f in range(FEEDS_PER_HOST)]
    sources = "".join(f"  - name: feed {i}\n    url: {url}\n" for i, url in enumerate(urls))
    allow = "".join(f'    - "{hp}"\n' for hp in host_ports)
    rounds = []
    try:
        with tempfile.TemporaryDirectory() as tmp:
            warm_up(Path(tmp), urls[0], host_ports[0])
            for n in range(ROUNDS):
                config = Path(tmp) / f"round-{n}.yaml"
                config.write_text(
                    f"data_dir: var-{n}\nnetwork:\n  allow_hosts:\n{allow}sources:\n{sources}"
                )
                rounds.append(one_round(load_config(config), urls, child.pid))
    finally:
        stop.set()
        child.join(timeout=5)
    for naive_wall, wall, cpu, recpu, first, second in rounds:
        print(
            f"naive {naive_wall:.3f} s | fetch --all {wall:.3f} s wall, {cpu:.3f} s CPU "
            f"({first}) | re-poll {recpu:.3f} s CPU ({second})"
        )
    speedup = statistics.median(r[0] / r[1] for r in rounds)
    ratio = statistics.median(r[3] / r[2] for r in rounds)
    print(f"poll: speedup_vs_naive={speedup:.2f} repoll_cost_ratio={ratio:.3f}")
    sys.stdout.flush()


def one_round(settings: Settings, urls: list[str], server_pid: int) -> tuple:
    naive_wall = naive(urls)
    with Store(settings.db_path) as store:
        wall, cpu, first = timed(lambda: poll(settings, store), exclude=server_pid)
        _, recpu, second = timed(lambda: poll(settings, store), exclude=server_pid)
    return naive_wall, wall, cpu, recpu, first.line(), second.line()


def timed(run, exclude: int):  # type: ignore[no-untyped-def]
    wall, cpu = time.perf_counter(), cbewatch_cpu(exclude)
    result = run()
    wall = time.perf_counter() - wall
    time.sleep(0.3)  # let the fork server reap the run's workers, so their time counts
    return wall, cbewatch_cpu(exclude) - cpu, result


def cbewatch_cpu(exclude: int) -> float:
    """CPU seconds of this process and every process it started but `exclude` (the
    fixture servers). Worker processes are reaped by the fork server, so their time is
    in its cutime/cstime."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = time.process_time()
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue  # the process ended while we looked
        pid = int(stat.parent.name)
        if int(fields[1]) == os.getpid() and pid != exclude:
            total += sum(int(f) for f in fields[11:15]) / ticks  # utime stime cutime cstime
    return total


if __name__ == "__main__":
    main()

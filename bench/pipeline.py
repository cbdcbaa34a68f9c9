"""Benchmark: polling, page extraction and dedup, 50 feeds × 20 article pages served from
20 loopback addresses (127.0.0.1 to 127.0.0.20), as 20 organizations' sites would be.

In one run, at 0 ms and at 50 ms of added latency per response:
  (a) the CPU limit: trafilatura extracting the same 1,000 pages in one process, / cores;
  (b) a naive loop: each feed, then each page, fetched, extracted and inserted in turn;
  (c) `cbewatch fetch --all` (the fetch service, after a warm-up) on a fresh database;
and at 0 ms only:
  (d) `cbewatch fetch --all` as users run it: a separate process on a fresh database,
      its start-up (imports, the worker processes, trafilatura loaded in them) included.
Also: dedup's CPU time in (c) against extraction's CPU time in (a), store insert
throughput in batches, and the LSH index load time at 100,000 stored signatures.
The fixture servers run in a child process; they share the machine's cores with us.

Last line: `pipeline: vs_cpu_limit=A speedup_vs_naive_0ms=B speedup_vs_naive_50ms=C
dedup_share=D command_vs_cpu_limit=E command_speedup_vs_naive_0ms=F` (goal A ≤ 1.15,
B ≥ 2.8, C ≥ 6, D ≤ 0.05; E and F have none yet), where
  A = (c) at 0 ms / (a): the warm in-process run against extraction's own CPU time
      spread on the cores (1.0: nothing but extraction, every core busy);
  B = (b) / (c) at 0 ms, C = (b) / (c) at 50 ms: the naive loop's wall time over the
      warm in-process run's, without and with network latency;
  D = dedup's CPU seconds in (c) at 0 ms / extraction's CPU seconds in (a);
  E = (d) / (a) and F = (b) / (d) at 0 ms: A and B for the command, start-up included.
The line before it gives (d) in seconds, and beside it `cbewatch check-config` on the
same config: the interpreter and cbewatch's imports, without a fetch's worker processes.
"""

from __future__ import annotations

import multiprocessing
import os
import random
import re
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from html import escape
from pathlib import Path

import httpx
import numpy as np

from cbewatch import pipeline
from cbewatch.config import load_config
from cbewatch.dedup import NUM_PERM, BandIndex, DedupReport, Parts, dedup_new
from cbewatch.demo.server import Route, SiteServer
from cbewatch.extract import read_page
from cbewatch.model.types import Entry
from cbewatch.services.sources import fetch
from cbewatch.store import Store
from cbewatch.workers import preload_for_program

HOSTS = [f"127.0.0.{i}" for i in range(1, 21)]
FEEDS = 50
PAGES_PER_FEED = 20
COPIES = 50  # pages that republish another organization's release with a new intro
SITES = Path(__file__).parent.parent / "src/cbewatch/demo/sites"
TEMPLATE = SITES / "cedar-foundation/news/student-voice-belonging-rigor.html"


# ---------------------------------------------------------------------------------------
# The fixture: realistic page chrome (the demo's), generated article text.


def sentence_pool() -> tuple[list[str], list[str]]:
    """Sentences and words of the demo sites' articles, to write new articles from."""
    text = " ".join(
        re.sub(r"<[^>]+>", " ", p)
        for f in SITES.rglob("*.html")
        for p in re.findall(r"<p>(.*?)</p>", f.read_text(), re.S)
    )
    sentences = [s.strip() for s in re.split(r"(?<=[.!?])\s+", text) if len(s.split()) > 8]
    return sentences, sorted(set(re.findall(r"[A-Za-z]{4,}", text)))


def article_paragraphs(rng: random.Random, sentences: list[str], vocab: list[str]) -> list[str]:
    """Six paragraphs of four sentences, one word in five swapped so no two agree."""
    paragraphs = []
    for _ in range(6):
        chosen = []
        for sentence in rng.sample(sentences, 4):
            words = [rng.choice(vocab) if rng.random() < 0.2 else w for w in sentence.split()]
            chosen.append(" ".join(words))
        paragraphs.append(" ".join(chosen))
    return paragraphs


def page_html(template: str, host: str, path: str, title: str, paragraphs: list[str]) -> str:
    head, rest = template.split('<div class="story-body rich-text">', 1)
    _, tail = rest.split("</div>", 1)
    body = "".join(f"<p>{escape(p)}</p>\n" for p in paragraphs)
    own = f"http://{host}{path}"
    page = head.replace("What 600 students told us about belonging and rigor", escape(title))
    page = page.replace("__BASE__/cedar-foundation/news/student-voice-belonging-rigor.html", own)
    page += f'<div class="story-body rich-text">\n{body}</div>{tail}'
    return page.replace("__BASE__", f"http://{host}")


Site = list[tuple[str, str, object]]  # (path, "feed" or "page", feed items or paragraphs)


def build_sites(seed: int = 11) -> list[Site]:
    """Each host's feeds and pages (their URLs get the host's port when served)."""
    rng = random.Random(seed)
    sentences, vocab = sentence_pool()
    start = datetime(2026, 11, 1, tzinfo=UTC)
    total = FEEDS * PAGES_PER_FEED
    articles = [article_paragraphs(rng, sentences, vocab) for _ in range(total)]
    for n in rng.sample(range(total), COPIES):  # republished releases
        original = rng.randrange(total)
        intro = f"We are glad to share this announcement from partner number {original}."
        articles[n] = [intro, *articles[original][:5]]
    sites: list[Site] = [[] for _ in HOSTS]
    for feed in range(FEEDS):
        items = []
        for k in range(PAGES_PER_FEED):
            n = feed * PAGES_PER_FEED + k
            path, title = f"/posts/{feed}/{k}.html", f"Competency-based learning update {n}"
            sites[feed % len(HOSTS)].append((path, "page", [title, *articles[n]]))
            items.append((path, title, format_datetime(start + timedelta(hours=n))))
        sites[feed % len(HOSTS)].append((f"/feed-{feed}.xml", "feed", items))
    return sites


def rss(host_port: str, items: list[tuple[str, str, str]]) -> str:
    body = "".join(
        f"<item><title>{t}</title><link>http://{host_port}{p}</link>"
        f"<guid>http://{host_port}{p}</guid><pubDate>{w}</pubDate>"
        "<description>A short teaser for the story.</description></item>"
        for p, t, w in items
    )
    return (
        '<?xml version="1.0" encoding="utf-8"?><rss version="2.0"><channel>'
        f"<title>Org {host_port}</title><link>http://{host_port}/</link>"
        f"<description>News</description>{body}</channel></rss>"
    )


def serve(latency: float, port_queue: multiprocessing.Queue, stop: multiprocessing.Event) -> None:
    template = TEMPLATE.read_text()
    servers = []
    for host, site in zip(HOSTS, build_sites(), strict=True):
        server = SiteServer(host=host, port=0)
        for path, kind, payload in site:
            if kind == "feed":
                body = rss(server.host_port, payload)  # type: ignore[arg-type]
                server.add(path, Route(body, content_type="application/rss+xml", delay=latency))
            else:
                title, *paragraphs = payload  # type: ignore[misc]
                body = page_html(template, server.host_port, path, title, paragraphs)
                server.add(path, Route(body, delay=latency))
        servers.append(server.start())
    port_queue.put([s.host_port for s in servers])
    stop.wait()
    for server in servers:
        server.stop()


def start_servers(latency: float) -> tuple[multiprocessing.Process, multiprocessing.Event, list]:
    ports: multiprocessing.Queue = multiprocessing.Queue()
    stop = multiprocessing.Event()
    child = multiprocessing.Process(target=serve, args=(latency, ports, stop), daemon=True)
    child.start()
    return child, stop, ports.get(timeout=120)


# ---------------------------------------------------------------------------------------
# The contenders.


def feed_urls(host_ports: list[str]) -> list[str]:
    return [f"http://{host_ports[f % len(HOSTS)]}/feed-{f}.xml" for f in range(FEEDS)]


def page_bodies(host_ports: list[str]) -> list[tuple[str, bytes]]:
    with httpx.Client(trust_env=False) as client:
        return [
            (url, client.get(url).content)
            for f in range(FEEDS)
            for url in (
                f"http://{host_ports[f % len(HOSTS)]}/posts/{f}/{k}.html"
                for k in range(PAGES_PER_FEED)
            )
        ]


def cpu_limit(bodies: list[tuple[str, bytes]]) -> tuple[float, float]:
    """(a): extraction CPU seconds in one process, and that divided by the cores."""
    start = time.process_time()
    for url, body in bodies:
        read_page(url, "text/html", "utf-8", body)
    spent = time.process_time() - start
    return spent, spent / (os.cpu_count() or 1)


def naive(host_ports: list[str], db_path: Path) -> float:
    """(b): one thing after another: a feed, then each of its pages, extract, insert."""
    import feedparser

    start = time.perf_counter()
    conn = sqlite3.connect(db_path)
    conn.execute("CREATE TABLE items (url TEXT PRIMARY KEY, title TEXT, text TEXT)")
    with httpx.Client(trust_env=False) as client:
        for url in feed_urls(host_ports):
            for entry in feedparser.parse(client.get(url).content).entries:
                page = client.get(entry.link)
                article = read_page(entry.link, "text/html", "utf-8", page.content)
                conn.execute(
                    "INSERT INTO items VALUES (?, ?, ?)", (entry.link, entry.title, article.text)
                )
                conn.commit()
    conn.close()
    return time.perf_counter() - start


DEDUP_CPU: list[float] = []


def _timed_dedup(store: Store, known: Mapping[int, tuple[str, Parts]] | None = None) -> DedupReport:
    start = time.process_time()
    report = dedup_new(store, known)
    DEDUP_CPU.append(time.process_time() - start)
    return report


def fetch_config(folder: Path, host_ports: list[str], name: str) -> Path:
    """A config with every feed, its data in a fresh folder named after `name`."""
    allow = "".join(f'    - "{hp}"\n' for hp in host_ports)
    sources = "".join(
        f"  - name: feed {i}\n    url: {u}\n" for i, u in enumerate(feed_urls(host_ports))
    )
    config = folder / f"{name}.yaml"
    # 20 hosts × per_host 2: a pool of 40 keeps every connection alive between pages.
    network = f"network:\n  max_connections: 40\n  allow_hosts:\n{allow}"
    config.write_text(f"data_dir: var-{name}\n{network}sources:\n{sources}")
    return config


def fetch_all(folder: Path, host_ports: list[str], name: str) -> tuple[float, str]:
    """(c): the fetch service on a fresh database, as `cbewatch fetch --all` runs it."""
    settings = load_config(fetch_config(folder, host_ports, name))
    with Store(settings.db_path) as store:
        start = time.perf_counter()
        summary = fetch(store, settings, poll_all=True)
        return time.perf_counter() - start, summary.line()


def command(config: Path, *args: str) -> tuple[float, str]:
    """Wall seconds and output of `cbewatch --config CONFIG ARGS…` as its own process."""
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "cbewatch", "--config", str(config), *args],
        capture_output=True,
        text=True,
        check=True,
    )
    return time.perf_counter() - start, done.stdout.strip()


def fetch_command(folder: Path, host_ports: list[str], name: str) -> tuple[float, str, float]:
    """(d): `cbewatch fetch --all` as a process on a fresh database, start-up included;
    and the start-up alone (`cbewatch check-config` on the same config)."""
    config = fetch_config(folder, host_ports, name)
    startup, _ = command(config, "check-config")
    seconds, line = command(config, "fetch", "--all")
    return seconds, line, startup


def warm_up(folder: Path, host_ports: list[str]) -> None:
    """Start the fork server (once per process) and load trafilatura in it, as a
    long-running daemon would have."""
    config = folder / "warm.yaml"
    url = feed_urls(host_ports)[0]
    config.write_text(
        f'data_dir: var-warm\nnetwork:\n  allow_hosts: ["{host_ports[0]}"]\n'
        f"sources:\n  - name: warm\n    url: {url}\n"
    )
    settings = load_config(config)
    with Store(settings.db_path) as store:
        fetch(store, settings, poll_all=True)


# ---------------------------------------------------------------------------------------
# Store figures.


def insert_throughput(folder: Path, rows: int = 100_000, batch: int = 1000) -> tuple[float, Store]:
    """Items per second through record_poll in batches; returns the filled store."""
    store = Store(folder / "insert.db")
    store.sources.sync([("Bulk", "https://bulk.example.org/feed", "feed")])
    now = datetime(2026, 11, 23, tzinfo=UTC)
    start = time.perf_counter()
    for first in range(0, rows, batch):
        entries = [
            Entry(url=f"https://bulk.example.org/p/{n}", title=f"Post {n}", summary_text="Teaser.")
            for n in range(first, first + batch)
        ]
        store.sources.record_poll("Bulk", entries, now)
    return rows / (time.perf_counter() - start), store


def lsh_load_time(store: Store) -> float:
    """Seconds to load every stored signature and build the LSH index (100k items),
    as dedup does at the start of each run."""
    rng = np.random.default_rng(3)
    ids = [row[0] for row in store.db.execute("SELECT id FROM items").fetchall()]
    signatures = rng.integers(0, 2**32, size=(len(ids), NUM_PERM), dtype=np.uint32)
    store.clusters.record(((i, None, 200, signatures[n].tobytes()) for n, i in enumerate(ids)), [])
    times = []
    for _ in range(3):  # the machine is shared: the median of three
        start = time.perf_counter()
        index = BandIndex.from_rows((i, blob) for i, _, blob in store.clusters.signature_rows())
        times.append(time.perf_counter() - start)
        assert len(index) == len(ids)
    return sorted(times)[1]


# ---------------------------------------------------------------------------------------


def one_latency(latency: float, folder: Path) -> dict[str, float | str]:
    child, stop, host_ports = start_servers(latency)
    try:
        warm_up(folder, host_ports)
        out: dict[str, float | str] = {}
        if latency == 0:
            bodies = page_bodies(host_ports)
            out["extract_cpu"], out["cpu_limit"] = cpu_limit(bodies)
        out["naive"] = naive(host_ports, folder / f"naive-{latency}.db")
        out["fetch"], out["line"] = fetch_all(folder, host_ports, f"fetch-{latency}")
        out["fetch_cpu_dedup"] = DEDUP_CPU[-1]
        if latency == 0:
            out["command"], out["command_line"], out["startup"] = fetch_command(
                folder, host_ports, f"command-{latency}"
            )
        return out
    finally:
        stop.set()
        child.join(timeout=10)


def main() -> None:
    # Workers run this script again when they start: preload what it imports, as the
    # `cbewatch` command does for itself (see workers.preload_for_program).
    preload_for_program("cbewatch.cli", "cbewatch.demo.server")
    pipeline.dedup_new = _timed_dedup  # type: ignore[assignment]  # measure dedup's CPU
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        zero = one_latency(0.0, folder)
        fifty = one_latency(0.05, folder)
        rate, store = insert_throughput(folder)
        load = lsh_load_time(store)
        store.close()
    report(zero, fifty, rate, load)
    sys.stdout.flush()


def report(zero: dict, fifty: dict, rate: float, load: float) -> None:
    pages = FEEDS * PAGES_PER_FEED
    print(f"cores: {os.cpu_count()}, pages: {pages}, feeds: {FEEDS}, hosts: {len(HOSTS)}")
    print(
        f"(a) extraction CPU {zero['extract_cpu']:.2f} s in one process, "
        f"CPU limit {zero['cpu_limit']:.2f} s"
    )
    for label, run in (("0 ms", zero), ("50 ms", fifty)):
        print(
            f"{label}: (b) naive {run['naive']:.2f} s | (c) fetch --all {run['fetch']:.2f} s "
            f"({run['line']}) | dedup CPU {run['fetch_cpu_dedup']:.3f} s"
        )
    print(
        f"store: {rate:,.0f} items/s inserted in batches of 1,000; "
        f"LSH index of 100,000 signatures loaded in {load:.3f} s"
    )
    print(
        f"0 ms: (d) cbewatch fetch --all as a process {zero['command']:.2f} s, start-up "
        f"included ({zero['command_line']}); start-up alone {zero['startup']:.2f} s"
    )
    a = zero["fetch"] / zero["cpu_limit"]
    b = zero["naive"] / zero["fetch"]
    c = fifty["naive"] / fifty["fetch"]
    d = zero["fetch_cpu_dedup"] / zero["extract_cpu"]
    e = zero["command"] / zero["cpu_limit"]
    f = zero["naive"] / zero["command"]
    print(
        f"pipeline: vs_cpu_limit={a:.2f} speedup_vs_naive_0ms={b:.2f} "
        f"speedup_vs_naive_50ms={c:.2f} dedup_share={d:.3f} "
        f"command_vs_cpu_limit={e:.2f} command_speedup_vs_naive_0ms={f:.2f}"
    )


if __name__ == "__main__":
    main()

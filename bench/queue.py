"""Benchmark: the curators' queue at 1,000 and at 100,000 items.

Times, on a real SQLite file filled through the store, the first queue page, a filtered
page (one source), a free-text search (a word in ~0.5% of items: 9 at 1k, 509 at 100k)
and an accept (a decision with its version check and audit row), each the median of
several runs, at both sizes: first the store's queries alone, then the pages as HTTP
requests to the app. The query planner's statistics are what the app leaves: the fill
is a run of polls, each followed by what a fetch does after it
(`upkeep.optimize_after_fetch`), never an ANALYZE of the benchmark's own.

Last line: `queue: growth_100k_vs_1k=X store_growth_100k_vs_1k=Y`: X the worst of the
four pages' ratios (100k over 1k, HTTP included), Y the worst of the same four at the
store, without HTTP (goals X ≤ 2, Y ≤ 2). Printed beside them, outside Y: a search for
a word in most items, and one for a word in 1 item in 16, which fills a page at both
sizes (the ~0.5% word's page holds 9 items at 1k, 50 at 100k: its ratio counts that).
"""

from __future__ import annotations

import sys
from pathlib import Path

# This file is named queue.py: keep its folder off sys.path, or it would shadow the
# standard library's queue module (which logging and uvicorn import).
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != Path(__file__).resolve().parent]

import random  # noqa: E402
import re  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
import warnings  # noqa: E402
from collections.abc import Callable  # noqa: E402
from datetime import UTC, datetime, timedelta  # noqa: E402

with warnings.catch_warnings():  # starlette's notice about its test client's transport
    warnings.simplefilter("ignore")
    from starlette.testclient import TestClient

from cbewatch.config import load_config  # noqa: E402
from cbewatch.daemon import Daemon  # noqa: E402
from cbewatch.model.types import Entry, QueueQuery  # noqa: E402
from cbewatch.services.accounts import add_user  # noqa: E402
from cbewatch.services.upkeep import optimize_after_fetch  # noqa: E402
from cbewatch.store import Store  # noqa: E402
from cbewatch.web.app import create_app  # noqa: E402

SOURCES = [f"Source {n:02d}" for n in range(40)]
COMMON = "competency mastery grading assessment equity pacing portfolio credit".split()  # noqa: SIM905
# Rarer words, like the names and subjects of real articles: each is in ~1% of items.
RARE = [f"{stem}{n}" for stem in ("district", "capstone", "rubric", "pilot") for n in range(100)]
RUNS = 15


def text(rng: random.Random, words: int) -> str:
    return " ".join([*rng.choices(COMMON, k=words - 1), rng.choice(RARE)])


def fill(store: Store, count: int, rng: random.Random) -> None:
    """`count` items spread evenly over 40 sources and two years, 25 a poll."""
    start = datetime(2025, 1, 1, tzinfo=UTC)
    store.sources.sync((s, f"https://{i}.example.org/feed", "feed") for i, s in enumerate(SOURCES))
    batch = 25
    for first in range(0, count, batch):
        source = SOURCES[(first // batch) % len(SOURCES)]
        entries = [
            Entry(
                url=f"https://example.org/{i}",
                title=text(rng, 8),
                # Every 16th item says "keystone" too (no draw: the rest stays the same).
                summary_text=text(rng, 40) + (" keystone" if i % 16 == 0 else ""),
                published=start + timedelta(minutes=rng.randrange(60 * 24 * 700)),
            )
            for i in range(first, min(first + batch, count))
        ]
        new = store.sources.record_poll(source, entries, start)
        optimize_after_fetch(store, new)  # what the app does after each fetch


def median_seconds(task: Callable[[], object]) -> float:
    task()  # warm the page cache
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        task()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def store_timings(store: Store, count: int) -> dict[str, float]:
    """The store's side of the four: what grows with the number of items."""
    ids = iter(range(1, count + 1))

    def accept() -> None:
        item_id = next(ids)
        version = store.items.get(item_id).version
        store.decisions.set(item_id, {"status": "accepted"}, "bench", version, "accept")

    return {
        "first page": median_seconds(lambda: store.queue.page(QueueQuery())),
        "filtered page": median_seconds(lambda: store.queue.page(QueueQuery(source="Source 07"))),
        "search": median_seconds(lambda: store.queue.page(QueueQuery(search="capstone7"))),
        "accept": median_seconds(accept),
        "search, common word": median_seconds(
            lambda: store.queue.page(QueueQuery(search="mastery"))
        ),
        "search, 1 in 16": median_seconds(lambda: store.queue.page(QueueQuery(search="keystone"))),
    }


def page_timings(folder: Path, count: int) -> dict[str, float]:
    """The same four as a curator gets them: HTTP requests to the app (in process),
    templates, session and CSRF checks included."""
    config = folder / "sources.yaml"
    names = "".join(
        f"  - name: {s}\n    url: https://x.example.org/{i}\n" for i, s in enumerate(SOURCES)
    )
    config.write_text(f"data_dir: {folder}\nsources:\n{names}")
    settings = load_config(config)
    with Store(settings.db_path) as store:
        add_user(store, "bench", "bench password")
    app = create_app(settings, Daemon(settings, scheduler=False))
    with TestClient(app, base_url="http://127.0.0.1") as client:
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)[1]
        form = {"username": "bench", "password": "bench password", "csrf_token": token}
        client.post("/login", data=form, follow_redirects=False)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/queue").text)[1]
        ids = iter(range(count // 2, count + 1))

        def accept() -> None:
            form = {"action": "accept", "csrf_token": token, "version": "1"}
            response = client.post(f"/items/{next(ids)}", data=form, headers={"HX-Request": "true"})
            assert response.status_code == 200, response.status_code

        return {
            "first page": median_seconds(lambda: client.get("/queue")),
            "filtered page": median_seconds(lambda: client.get("/queue?source=Source+07")),
            "search": median_seconds(lambda: client.get("/queue?q=capstone7")),
            "accept": median_seconds(accept),
        }


def measure(count: int) -> tuple[dict[str, float], dict[str, float]]:
    rng = random.Random(count)
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        with Store(folder / "cbewatch.db") as store:
            fill(store, count, rng)
            in_store = store_timings(store, count // 2)
        return in_store, page_timings(folder, count)


def report(title: str, small: dict[str, float], large: dict[str, float]) -> float:
    print(title)
    ratios = {name: large[name] / small[name] for name in small}
    for name, ratio in ratios.items():
        print(
            f"  {name:14} 1k: {small[name] * 1000:7.2f} ms   100k: {large[name] * 1000:7.2f} ms"
            f"   ×{ratio:.2f}"
        )
    return max(ratios.values())


def main() -> None:
    (store_1k, pages_1k), (store_100k, pages_100k) = measure(1_000), measure(100_000)
    # The searches printed beside the four, outside Y: in ms at 1k and at 100k.
    common = [size.pop("search, common word") * 1000 for size in (store_1k, store_100k)]
    sixteenth = [size.pop("search, 1 in 16") * 1000 for size in (store_1k, store_100k)]
    store_worst = report("store (queries alone):", store_1k, store_100k)
    print(f"  (a word in most items: 1k {common[0]:.2f} ms, 100k {common[1]:.2f} ms)")
    print(
        f"  (a word in 1 item in 16, a full page at both sizes: 1k {sixteenth[0]:.2f} ms, "
        f"100k {sixteenth[1]:.2f} ms, ×{sixteenth[1] / sixteenth[0]:.2f})"
    )
    worst = report("pages (HTTP, as a curator gets them):", pages_1k, pages_100k)
    sys.stdout.flush()
    print(f"queue: growth_100k_vs_1k={worst:.2f} store_growth_100k_vs_1k={store_worst:.2f}")


if __name__ == "__main__":
    main()

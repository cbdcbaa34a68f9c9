"""Benchmark: the curators' queue at 1,000 and at 100,000 items.

Times, on a real SQLite file filled through the store, the first queue page, a filtered
page (one source, one month), a free-text search and an accept (a decision with its
version check and audit row), each the median of several runs, at both sizes.

Last line: `queue: growth_100k_vs_1k=X`, the worst of the four ratios (goal X ≤ 2).
"""

from __future__ import annotations

import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from cbewatch.sources.model import Entry
from cbewatch.store import QueueQuery, Store

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
    store.sync_sources((s, f"https://{i}.example.org/feed", "feed") for i, s in enumerate(SOURCES))
    states = store.source_states()
    batch = 25
    for first in range(0, count, batch):
        source = SOURCES[(first // batch) % len(SOURCES)]
        entries = [
            Entry(
                url=f"https://example.org/{i}",
                title=text(rng, 8),
                summary_text=text(rng, 40),
                published=start + timedelta(minutes=rng.randrange(60 * 24 * 700)),
            )
            for i in range(first, min(first + batch, count))
        ]
        store.record_poll(states[source], entries, start)


def median_seconds(task: Callable[[], object]) -> float:
    task()  # warm the page cache
    times = []
    for _ in range(RUNS):
        began = time.perf_counter()
        task()
        times.append(time.perf_counter() - began)
    return statistics.median(times)


def measure(count: int) -> dict[str, float]:
    rng = random.Random(count)
    with tempfile.TemporaryDirectory() as folder, Store(Path(folder) / "bench.db") as store:
        fill(store, count, rng)
        store.db.execute("ANALYZE")
        ids = iter(range(1, count + 1))

        def accept() -> None:
            item_id = next(ids)
            version = store.queue_item(item_id)["version"]
            store.set_decision(item_id, {"status": "accepted"}, "bench", version, "accept")

        return {
            "first page": median_seconds(lambda: store.queue_page(QueueQuery())),
            "filtered page": median_seconds(
                lambda: store.queue_page(QueueQuery(source="Source 07"))
            ),
            "search": median_seconds(lambda: store.queue_page(QueueQuery(search="capstone7"))),
            "accept": median_seconds(accept),
        }


def main() -> None:
    small, large = measure(1_000), measure(100_000)
    ratios = {}
    for name in small:
        ratios[name] = large[name] / small[name]
        print(
            f"{name:14} 1k: {small[name] * 1000:7.2f} ms   100k: {large[name] * 1000:7.2f} ms"
            f"   ×{ratios[name]:.2f}"
        )
    sys.stdout.flush()
    print(f"queue: growth_100k_vs_1k={max(ratios.values()):.2f}")


if __name__ == "__main__":
    main()

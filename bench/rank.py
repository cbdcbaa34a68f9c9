"""Benchmark: rank 10,000 new items after retraining on 2,000 decisions, against
extracting the same number of pages with the extraction stage (`extract.read_page`).

Items are composed from the ranking corpus (tests/fixtures/rank), each with the text of
four corpus items of one section or kind; pages wrap the same text in a realistic page (nav,
cookie banner, sidebar, comments, footer). Ranking is timed whole, in a fresh process each
round, as `cbewatch rank` or `fetch` runs it: the interpreter's start, every import
(scikit-learn only where the process retrains: scoring reads plain arrays), reading the
field examples' classifier (shipped trained with the package), then
`rank_new_items` (read the store, retrain, score, write back). Twice: retraining on the
2,000 decisions (`rank:`), and with the decisions unchanged since the kept models were
trained (`rank_kept_model:`, the usual fetch). Extraction is timed on a sample of pages in
one process and scaled to 10,000 (the extraction stage spreads it over a pool, which
changes the wall clock, not the work). All are CPU time, the best of five rounds each, the
sides taking turns, so that other work on a shared machine does not tilt the ratio.

Last lines: `rank_kept_model: share_of_extract_time=X` and `rank: share_of_extract_time=X`
(goal X ≤ 0.05).
"""

from __future__ import annotations

import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import cbewatch
from cbewatch.config import load_config
from cbewatch.extract import read_page
from cbewatch.model.times import utc_now
from cbewatch.model.types import Entry
from cbewatch.rank import MODEL_FILE
from cbewatch.rank.signed import read_signed
from cbewatch.store import Store

ROOT = Path(__file__).parent.parent
FIXTURES = ROOT / "tests" / "fixtures" / "rank"
NEW_ITEMS = 10_000
DECISIONS = 2_000
EXTRACT_SAMPLE = 500
ROUNDS = 5  # each side's best of five: a busy machine slows one round, not the work
SRC = str(Path(cbewatch.__file__).parent.parent)  # the child imports this same cbewatch


def compose_items(count: int, seed: int) -> list[dict]:
    """Items like the corpus's, each with the text of four corpus items of one section or
    off-topic kind (a few hundred words)."""
    rng = random.Random(seed)
    pools: dict[str, list[dict]] = defaultdict(list)
    for line in (FIXTURES / "corpus.jsonl").read_text().splitlines():
        row = json.loads(line)
        pools[row["topic"] or row["kind"]].append(row)
    names = sorted(pools)
    items = []
    for n in range(count):
        kind = rng.choice(names)
        parts = rng.sample(pools[kind], 4)
        text = " ".join(f"{p['description']} {p['text']}" for p in parts)
        items.append({**parts[0], "n": n, "text": text, "kind": kind, "topic": kind})
    return items


def fill_store(db_path: Path, items: list[dict], decided: int, topics: set[str]) -> None:
    with Store(db_path) as store:
        store.sources.sync([("Bench", "https://bench.example.org/feed", "feed")])
        entries = [
            Entry(url=f"https://bench.example.org/{i['n']}", title=i["title"],
                  summary_text=i["description"])
            for i in items
        ]  # fmt: skip
        store.sources.record_poll("Bench", entries, utc_now())
        for item in store.items.find():
            n = int(item.url.rsplit("/", 1)[1])
            store.db["items"].update(item.id, {"text": items[n]["text"]})  # extraction's write
            if n < decided:
                accepted = items[n]["kind"] in topics
                status = "accepted" if accepted else "rejected"
                topic = items[n]["kind"] if accepted else None
                store.decisions.set(item.id, {"status": status, "topic": topic}, "bench")


def ranking_round(folder: Path) -> Callable[[int, bool], float]:
    """Fill a store in `folder`; return a timed round of ranking (CPU seconds of a fresh
    process, all told), which says what it did in round 0."""
    config = folder / "sources.yaml"
    config.write_text((FIXTURES / "topics.yaml").read_text())
    settings = load_config(config)
    topics = {t.name for t in settings.topics}
    fill_store(settings.db_path, compose_items(NEW_ITEMS + DECISIONS, seed=11), DECISIONS, topics)

    def one_round(round_: int, retrain: bool) -> float:
        child = subprocess.run(
            [sys.executable, "-c", RANKING, str(config), str(int(retrain))],
            capture_output=True, text=True, check=True, env={**os.environ, "PYTHONPATH": SRC},
        )  # fmt: skip
        done = json.loads(child.stdout.strip().splitlines()[-1])
        if not round_:
            model = read_signed(settings.data_dir / MODEL_FILE)["model"]
            trained = f"retrained in {model.seconds:.2f}s, " if retrain else ""
            print(f"{done['line']} ({trained}start-up {done['start_up']:.2f}s, "
                  f"scikit-learn {'loaded' if done['sklearn'] else 'never loaded'})")  # fmt: skip
        return done["seconds"]

    return one_round


def _rounds(seconds: list[float]) -> str:
    return " / ".join(f"{s:.2f}s" for s in seconds) + f" (best {min(seconds):.2f}s)"


# A process that ranks: all of its CPU time, from the interpreter's start.
RANKING = """
import json, sys, time
from pathlib import Path
from cbewatch.config import load_config
from cbewatch.rank import field_examples, rank_new_items
from cbewatch.store import Store
settings = load_config(Path(sys.argv[1]))
field_examples(data_dir=settings.data_dir)
start_up = time.process_time()
with Store(settings.db_path) as store:
    summary = rank_new_items(settings, store, retrain=sys.argv[2] == "1")
print(json.dumps({"seconds": time.process_time(), "start_up": start_up, "line": summary.line(),
                  "sklearn": "sklearn" in sys.modules}))
"""


def page_html(item: dict, others: list[dict]) -> str:
    """An article page shaped like the field's WordPress sites: menus, cookie banner,
    related posts with excerpts, comments, a long footer (about 10 KB; real ones weigh
    more, so this errs on the side of cheap extraction)."""
    paragraphs = "".join(f"<p>{s.strip()}.</p>" for s in item["text"].split(". ") if s.strip())
    menu = "".join(f'<li><a href="/topic/{i}">Section {i}</a></li>' for i in range(40))
    related = "".join(
        f'<li><a href="/posts/{o["n"]}">{o["title"]}</a><p>{o["description"]}</p></li>'
        for o in others
    )
    comments = "".join(
        f'<li class="comment"><b>Reader {i}</b><p>{o["description"]}</p></li>'
        for i, o in enumerate(others[:5])
    )
    return (
        f"<!doctype html><html><head><title>{item['title']}</title>"
        f'<meta name="description" content="{item["description"]}">'
        '<script type="application/ld+json">{"@type": "Article"}</script></head><body>'
        '<div class="cookie-banner">We use cookies. <button>Accept</button></div>'
        f"<header><nav><ul>{menu}</ul></nav></header><main><article>"
        f"<h1>{item['title']}</h1><p class=byline>By Staff, November 2, 2026</p>"
        f"{paragraphs}</article>"
        f'<aside class="sidebar"><h3>Related</h3><ul>{related}</ul></aside>'
        f'<section class="comments"><h3>Comments</h3><ul>{comments}</ul></section>'
        f"</main><footer><ul>{menu}</ul>© 2026 Example Institute</footer></body></html>"
    )


def extraction_round(round_: int) -> float:
    """CPU seconds for the extraction stage (`extract.read_page`: decoding, trafilatura,
    the sanitizer, plain text) to read EXTRACT_SAMPLE pages, fresh ones each round so that
    no cache may hit across rounds."""
    items = compose_items(EXTRACT_SAMPLE + 15, seed=12 + round_)
    pages = [page_html(i, items[-15:]).encode() for i in items[:EXTRACT_SAMPLE]]
    if not round_:
        read_page("https://bench.example.org/0", "text/html", "utf-8", pages[-1])  # imports
        size = sum(map(len, pages)) / len(pages) / 1000
        print(f"extraction reads {EXTRACT_SAMPLE} pages of {size:.0f} KB a round")
    started = time.process_time()
    for n, body in enumerate(pages):
        read_page(f"https://bench.example.org/{n}", "text/html", "utf-8", body)
    return time.process_time() - started


def main() -> None:
    retraining, kept, extraction = [], [], []
    with tempfile.TemporaryDirectory() as folder:
        rank_once = ranking_round(Path(folder))
        for round_ in range(ROUNDS):  # the sides take turns: a slow spell hits all
            retraining.append(rank_once(round_, True))
            kept.append(rank_once(round_, False))
            extraction.append(extraction_round(round_))
    per_page = min(extraction) / EXTRACT_SAMPLE
    print(f"ranking {NEW_ITEMS} items, retraining, all told: {_rounds(retraining)}")
    print(f"ranking {NEW_ITEMS} items, the kept models, all told: {_rounds(kept)}")
    print(f"extraction: {_rounds(extraction)} for {EXTRACT_SAMPLE} pages "
          f"({1000 * per_page:.1f} ms a page at best; {NEW_ITEMS} pages: "
          f"{per_page * NEW_ITEMS:.1f}s)")  # fmt: skip
    print(f"rank_kept_model: share_of_extract_time={min(kept) / (per_page * NEW_ITEMS):.3f}")
    print(f"rank: share_of_extract_time={min(retraining) / (per_page * NEW_ITEMS):.3f}")


if __name__ == "__main__":
    main()

"""The labelled ranking corpus (tests/fixtures/rank/corpus.jsonl) loaded into a real
database, and the measures the ranking tests assert."""

from __future__ import annotations

import json
import random
import shutil
from dataclasses import dataclass
from pathlib import Path

from sklearn.metrics import roc_auc_score

from cbewatch.model.times import utc_now
from cbewatch.model.types import Entry
from cbewatch.store import Store

RANK_FIXTURES = Path(__file__).parent / "fixtures" / "rank"
CORPUS = RANK_FIXTURES / "corpus.jsonl"


@dataclass(frozen=True)
class Labelled:
    n: int
    title: str
    description: str
    text: str
    source: str
    relevant: bool
    topic: str | None
    kind: str | None
    holdout: bool = False  # written apart from the lexicon: never looked at to tune it

    @property
    def url(self) -> str:
        return f"https://{self.source.lower().replace(' ', '-')}.example.org/posts/{self.n}"


def load_corpus(path: Path = CORPUS) -> list[Labelled]:
    rows = [json.loads(line) for line in path.read_text().splitlines()]
    return [Labelled(**row) for row in rows]


def corpus_config(folder: Path) -> Path:
    """A config with the corpus's eight topics and its data under folder/var."""
    path = folder / "sources.yaml"
    shutil.copy(RANK_FIXTURES / "topics.yaml", path)
    return path


def store_corpus(db_path: Path, corpus: list[Labelled]) -> dict[int, int]:
    """Store the corpus as fetched items (text as the extraction stage leaves it);
    returns corpus number → item id."""
    with Store(db_path) as store:
        sources = sorted({item.source for item in corpus})
        store.sources.sync((s, f"https://{s.lower().replace(' ', '-')}.example.org/feed", "feed")
                           for s in sources)  # fmt: skip
        for source in sources:
            entries = [_entry(item) for item in corpus if item.source == source]
            store.sources.record_poll(source, entries, utc_now())
        ids = {item.canonical_url: item.id for item in store.items.find()}
        numbers = {item.n: ids[item.url] for item in corpus}
        for item in corpus:
            if item.text:  # the extraction stage's column; no SQL of our own
                store.db["items"].update(numbers[item.n], {"text": item.text})
    return numbers


def _entry(item: Labelled) -> Entry:
    return Entry(
        url=item.url, title=item.title, summary=f"<p>{item.description}</p>",
        summary_text=item.description,
    )  # fmt: skip


def split(corpus: list[Labelled], decided: int, seed: int = 0) -> tuple[list, list]:
    order = corpus[:]
    random.Random(seed).shuffle(order)
    return order[:decided], order[decided:]


def auc(items: list[Labelled], scores: dict[int, float]) -> float:
    return float(roc_auc_score([i.relevant for i in items], [scores[i.n] for i in items]))


def topic_accuracy(items: list[Labelled], topics: dict[int, str | None]) -> float:
    relevant = [i for i in items if i.relevant]
    return sum(topics[i.n] == i.topic for i in relevant) / len(relevant)

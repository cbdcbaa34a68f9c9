"""Ranking quality on the labelled corpus, end to end: a real SQLite file, decisions taken
through `cbewatch triage`, scores read back from `cbewatch items --json`."""

from __future__ import annotations

import json
import re
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from bench.rank_quality import PLAIN_C, plain_topics
from cbewatch.cli import cli
from cbewatch.config import load_config
from cbewatch.rank import ColdStart, RankInput
from cbewatch.rank.signed import read_signed
from tests.rank_corpus import (
    Labelled,
    auc,
    corpus_config,
    load_corpus,
    split,
    store_corpus,
    topic_accuracy,
)

CORPUS = load_corpus()


def run(config: Path, *args: str) -> Result:
    result = CliRunner().invoke(cli, ["--config", str(config), *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def stored(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[int, int]]:
    folder = tmp_path_factory.mktemp("corpus")
    config = corpus_config(folder)
    numbers = store_corpus(load_config(config).db_path, CORPUS)
    return load_config(config).db_path, numbers


@pytest.fixture
def corpus_site(tmp_path: Path, stored: tuple[Path, dict[int, int]]) -> tuple[Path, dict]:
    """A fresh copy of the stored corpus and its config."""
    db_path, numbers = stored
    config = corpus_config(tmp_path)
    target = load_config(config).db_path
    target.parent.mkdir(parents=True)
    shutil.copy(db_path, target)
    return config, numbers


def ranked(config: Path, numbers: dict[int, int]) -> dict[int, dict]:
    """corpus number → the item as `items --json` prints it."""
    by_id = {
        i["id"]: i for i in map(json.loads, run(config, "items", "--json").output.split("\n")[:-1])
    }
    return {n: by_id[item_id] for n, item_id in numbers.items()}  # fmt: skip


def scores(found: dict[int, dict]) -> dict[int, float]:
    return {n: item["score"] for n, item in found.items()}


def topics(found: dict[int, dict]) -> dict[int, str | None]:
    return {n: item["suggested_topic"] for n, item in found.items()}


def triage(config: Path, numbers: dict[int, int], decided: Iterable[Labelled]) -> None:
    for item in decided:
        args = ["--accept", "--topic", item.topic or ""] if item.relevant else ["--reject"]
        run(config, "triage", str(numbers[item.n]), *args)


def test_the_corpus_is_hard_for_keyword_counting() -> None:
    """A corpus where counting the config's keywords already wins would prove nothing;
    nor would one written from templates."""
    keywords = {t.name: [k.lower() for k in t.keywords] for t in _topics()}

    def count(item: Labelled, words: list[str]) -> int:
        text = f"{item.title} {item.description} {item.text}".lower()
        return sum(text.count(w) for w in words)

    every = [w for words in keywords.values() for w in words]
    naive = {i.n: float(count(i, every)) for i in CORPUS}
    naive_topic = {i.n: max(keywords, key=lambda t: count(i, keywords[t])) for i in CORPUS}
    relevant = [i for i in CORPUS if i.relevant]
    assert 280 <= len(CORPUS) <= 320 and 0.22 <= 1 - len(relevant) / len(CORPUS) <= 0.3
    assert len({i.topic for i in relevant}) == 8
    assert sum(count(i, every) == 0 for i in relevant) / len(relevant) > 0.6
    assert auc(CORPUS, naive) < 0.6
    assert topic_accuracy(CORPUS, naive_topic) < 0.45
    assert len({i.title for i in CORPUS}) == len(CORPUS)
    assert len({i.description for i in CORPUS}) == len(CORPUS)


def test_cold_start_ranks_the_corpus(corpus_site: tuple[Path, dict]) -> None:
    """The issue asks AUC ≥ 0.90 and topic accuracy ≥ 0.80; measured 0.996 and 0.925."""
    config, numbers = corpus_site
    assert run(config, "rank").output.startswith(f"ranked {len(CORPUS)} new items (cold start;")
    found = ranked(config, numbers)
    assert auc(CORPUS, scores(found)) >= 0.90
    assert topic_accuracy(CORPUS, topics(found)) >= 0.80
    names = {t.name for t in _topics()}
    assert all(0.0 <= s <= 1.0 for s in scores(found).values())
    assert {t for t in topics(found).values() if t} <= names
    best = max(found.values(), key=lambda item: item["score"])
    assert best["why"]  # the words that drove the score


def test_cold_start_on_the_third_nobody_tuned_on() -> None:
    """The corpus's `holdout` items measure the cold start out of sample: what the lexicon
    held that occurs only in them, and every field example sharing a six-word run with a
    corpus item, were removed (issue 13). The floors are the goals the cold start was first
    asked for (AUC 0.90, topic 0.80), never raised to what is measured."""
    holdout = [i for i in CORPUS if i.holdout]
    cold = ColdStart(_topics())
    found = {
        i.n: cold.rank(RankInput(i.n, i.title, i.description, i.text, i.source)) for i in holdout
    }
    assert len(holdout) > len(CORPUS) / 4
    assert auc(holdout, {n: r.score for n, r in found.items()}) >= 0.90
    assert topic_accuracy(holdout, {n: r.suggested_topic for n, r in found.items()}) >= 0.80


SPLITS = range(6)


@dataclass(frozen=True)
class SplitResult:
    line: str
    auc: float
    topic_accuracy: float
    cold_topic_accuracy: float
    curator_topics_kept: bool
    model_decisions: int
    plain_topic_accuracy: float  # a plain TF-IDF logistic regression on the same decisions


@pytest.fixture(scope="module")
def sixty_decisions(
    tmp_path_factory: pytest.TempPathFactory, stored: tuple[Path, dict[int, int]]
) -> dict[int, SplitResult]:
    """On several random splits, not one that happens to suit the model: 60 decisions
    taken through `cbewatch triage` from the labels, then `rank`, each on its own copy."""
    results = {}
    for seed in SPLITS:
        folder = tmp_path_factory.mktemp(f"split-{seed}")
        config = corpus_config(folder)
        (folder / "var").mkdir()
        shutil.copy(stored[0], folder / "var" / "cbewatch.db")
        numbers = stored[1]
        decided, rest = split(CORPUS, 60, seed=seed)
        run(config, "rank")
        cold = ranked(config, numbers)
        triage(config, numbers, decided)
        line = run(config, "rank").output
        found = ranked(config, numbers)
        payload = read_signed(folder / "var" / "rank-model.pickle")
        results[seed] = SplitResult(
            line=line,
            auc=auc(rest, scores(found)),
            topic_accuracy=topic_accuracy(rest, topics(found)),
            cold_topic_accuracy=topic_accuracy(rest, topics(cold)),
            curator_topics_kept=all(found[i.n]["topic"] == i.topic for i in decided),
            model_decisions=payload["decisions"],
            plain_topic_accuracy=_plain_accuracy(decided, rest),
        )
    return results


@pytest.mark.parametrize("seed", SPLITS)
def test_sixty_decisions_through_triage_make_it_sharper(
    sixty_decisions: dict[int, SplitResult], seed: int
) -> None:
    """Every split: AUC ≥ 0.97 and topic accuracy ≥ 0.90 on the remaining items, and the
    curator's topic stays whatever is suggested. Measured over 12 splits: AUC 0.994 on
    average (worst 0.986), topic accuracy 0.929 (worst 0.919, 10 of 12 at 0.92 or more)."""
    result = sixty_decisions[seed]
    assert result.line.startswith(
        f"ranked {len(CORPUS) - 60} new items (learned from 60 decisions, retrained)"
    )
    assert result.auc >= 0.97
    assert result.topic_accuracy >= 0.90
    assert result.curator_topics_kept
    assert result.model_decisions == 60


def test_sixty_decisions_meet_the_goals_on_average(
    sixty_decisions: dict[int, SplitResult],
) -> None:
    """The issue's goals, AUC ≥ 0.97 and topic accuracy ≥ 0.92 after 60 decisions, as
    the mean over the splits (one split of 60 can be luckier or unluckier than another);
    and learning does not cost topic accuracy against the cold start on the same items.
    (That decisions move the ranking when the curators disagree with the built-in
    knowledge: test_rejecting_a_kind_of_item_sinks_it.)"""
    results = list(sixty_decisions.values())
    assert sum(r.auc for r in results) / len(results) >= 0.97
    assert sum(r.topic_accuracy for r in results) / len(results) >= 0.92
    assert sum(r.topic_accuracy - r.cold_topic_accuracy for r in results) >= 0


def test_rejecting_a_kind_of_item_sinks_it(corpus_site: tuple[Path, dict]) -> None:
    """The built-in knowledge ranks statehouse news on the field high; a newsletter that
    leaves policy to others keeps rejecting it, and the rest of it sinks below the
    sections it does cover."""
    config, numbers = corpus_site
    run(config, "rank")
    policy = [i for i in CORPUS if i.topic == "Policy"]
    rejected, watched = policy[:8], policy[8:]
    accepted = [i for i in CORPUS if i.relevant and i.topic != "Policy"][:12]
    before = _mean_rank(ranked(config, numbers), watched)
    for item in rejected:  # relevant to the field, but not to this newsletter
        run(config, "triage", str(numbers[item.n]), "--reject")
    triage(config, numbers, accepted)
    run(config, "rank")
    after = _mean_rank(ranked(config, numbers), watched)
    assert before < 0.45 and after > before + 0.2  # a fifth of the queue further down


def test_scores_are_deterministic(tmp_path: Path, stored: tuple[Path, dict[int, int]]) -> None:
    runs = []
    for name in ("one", "two"):
        folder = tmp_path / name
        folder.mkdir()
        config = corpus_config(folder)
        (folder / "var").mkdir()
        shutil.copy(stored[0], folder / "var" / "cbewatch.db")
        triage(config, stored[1], split(CORPUS, 40, seed=5)[0])
        run(config, "rank")
        runs.append(ranked(config, stored[1]))
        run(config, "rank", "--retrain")
        runs.append(ranked(config, stored[1]))
    fields = [{n: (i["score"], i["suggested_topic"], i["why"]) for n, i in r.items()} for r in runs]
    assert fields[0] == fields[1] == fields[2] == fields[3]


def test_learned_topics_never_fall_below_a_plain_tf_idf_regression(
    sixty_decisions: dict[int, SplitResult],
) -> None:
    """Issue 13: trained on the same 60 decisions, the learned topic model files the rest
    at least as well as a plain TF-IDF logistic regression given its best regularization."""
    for result in sixty_decisions.values():
        assert result.topic_accuracy >= result.plain_topic_accuracy


def _plain_accuracy(decided: list[Labelled], rest: list[Labelled]) -> float:
    accepted = [i for i in decided if i.relevant]
    relevant = [i for i in rest if i.relevant]
    return max(
        topic_accuracy(relevant, dict(zip((i.n for i in relevant), found, strict=True)))
        for c in PLAIN_C
        for found in [plain_topics([_text(i) for i in accepted], [i.topic for i in accepted],
                                   [_text(i) for i in relevant], c)]
    )  # fmt: skip


def _text(item: Labelled) -> str:
    return f"{item.title} {item.description} {item.text}"


def _mean_rank(found: dict[int, dict], items: list[Labelled]) -> float:
    """Mean position of items in the queue of new items, 0 = top, 1 = bottom."""
    queue = sorted((i for i in found.values() if i["status"] == "new"), key=lambda i: -i["score"])
    position = {item["id"]: k / len(queue) for k, item in enumerate(queue)}
    return sum(position[found[i.n]["id"]] for i in items) / len(items)


def _topics() -> tuple:
    return load_config(Path(__file__).parent / "fixtures" / "rank" / "topics.yaml").topics


def test_the_vocabulary_holds_nothing_drawn_from_held_out_items() -> None:
    """Issue 13: no lexicon phrase occurs in held-out items of the corpus and in none of
    the others, and no field example shares a run of six words with any corpus item (the
    check that found what was removed)."""
    from cbewatch.lexicon import FIELD_CONCEPTS, OTHER_SENSES, SCHOOL_WORDS, stems, variants
    from cbewatch.rank import EXAMPLES_FILE

    def runs(words: list, size: int) -> set[tuple]:
        return {tuple(words[i : i + size]) for i in range(len(words) - size + 1)}

    def stemmed(part: list[Labelled]) -> dict[int, set[tuple]]:
        words = [stems(f"{i.title} {i.description} {i.text}") for i in part]
        return {size: set().union(*(runs(w, size) for w in words)) for size in range(1, 10)}

    held_out = stemmed([i for i in CORPUS if i.holdout])
    others = stemmed([i for i in CORPUS if not i.holdout])
    phrases = [p for c in (*FIELD_CONCEPTS, *OTHER_SENSES) for p in c.phrases]
    only_held_out = [
        phrase
        for phrase in [*phrases, *SCHOOL_WORDS]
        if any(key in held_out[len(key)] for key in variants(phrase))
        and not any(key in others[len(key)] for key in variants(phrase))
    ]
    assert only_held_out == []

    def raw(text: str) -> list[str]:
        return re.findall(r"[a-z0-9']+", text.lower())

    corpus_runs = set().union(
        *(runs(raw(f"{i.title} {i.description} {i.text}"), 6) for i in CORPUS)
    )
    examples = [json.loads(line) for line in EXAMPLES_FILE.read_text().splitlines()]
    shared = [e["title"] for e in examples if runs(raw(f"{e['title']} {e['summary']}"), 6)
              & corpus_runs]  # fmt: skip
    assert shared == []

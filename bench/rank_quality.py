"""Ranking quality on the labelled corpus (tests/fixtures/rank), split by the part the
lexicon and settings were tuned on and the held-out third nobody looked at while tuning.

Not a speed benchmark: the figures behind the settings in src/cbewatch/rank/tuning.py, for
whoever tunes them next. Tune on `development` only; read `held out` once, at the end.

    python -P bench/rank_quality.py [SPLITS]

Last line: `rank_quality: cold_auc=… cold_topic=… learned_auc=… learned_topic=…` (the
means over SPLITS random 60-decision splits, on the whole corpus).
"""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

from sklearn.metrics import roc_auc_score

from cbewatch.config import load_config
from cbewatch.rank import ColdStart, Decision, Ranking, RankInput, rank_with, train

FIXTURES = Path(__file__).parent.parent / "tests" / "fixtures" / "rank"
DECISIONS = 60


def measure(rows: list[dict], ranked: dict[int, Ranking]) -> tuple[float, float]:
    """ROC AUC of relevance, and topic accuracy on the relevant items."""
    found = roc_auc_score([r["relevant"] for r in rows], [ranked[r["n"]].score for r in rows])
    relevant = [r for r in rows if r["relevant"]]
    right = sum(ranked[r["n"]].suggested_topic == r["topic"] for r in relevant)
    return float(found), right / len(relevant)


PLAIN_C = (1.0, 10.0, 100.0, 1000.0)  # the baseline gets its best regularization


def plain_topics(texts: list[str], topics: list[str], rest: list[str], c: float) -> list[str]:
    """What a plain TF-IDF logistic regression trained on the accepted items' texts and
    sections files other texts under: the baseline the learned topic model must never fall
    below (issue 13). Given at each of PLAIN_C, its best counts."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    words = TfidfVectorizer(sublinear_tf=True)
    model = LogisticRegression(C=c, max_iter=2000).fit(words.fit_transform(texts), topics)
    return model.predict(words.transform(rest)).tolist()


def best_plain(decided: list[dict], rest: list[dict]) -> float:
    """The plain regression's topic accuracy on the relevant items of `rest`, at its best C."""

    def text(row: dict) -> str:
        return f"{row['title']} {row['description']} {row['text']}"

    accepted = [r for r in decided if r["relevant"]]
    relevant = [r for r in rest if r["relevant"]]
    truth = [r["topic"] for r in relevant]
    return max(
        sum(map(str.__eq__, found, truth)) / len(truth)
        for c in PLAIN_C
        for found in [plain_topics([text(r) for r in accepted], [r["topic"] for r in accepted],
                                   [text(r) for r in relevant], c)]
    )  # fmt: skip


def parts(rows: list[dict]) -> dict[str, list[dict]]:
    return {
        "all": rows,
        "development": [r for r in rows if not r["holdout"]],
        "held out": [r for r in rows if r["holdout"]],
    }


def main() -> None:
    splits = int(sys.argv[1]) if len(sys.argv) > 1 else 12
    rows = [json.loads(line) for line in (FIXTURES / "corpus.jsonl").read_text().splitlines()]
    cold = ColdStart(load_config(FIXTURES / "topics.yaml").topics)
    items = {r["n"]: RankInput(r["n"], r["title"], r["description"], r["text"], r["source"])
             for r in rows}  # fmt: skip
    at_start = {x.id: x for x in rank_with(list(items.values()), cold, None)}
    for name, part in parts(rows).items():
        found, topic = measure(part, at_start)
        print(f"cold start, {name:11s} AUC {found:.3f}  topic {topic:.3f}")
    learned: dict[str, list[tuple[float, float]]] = {name: [] for name in parts(rows)}
    plain: list[float] = []
    for seed in range(splits):
        order = rows[:]
        random.Random(seed).shuffle(order)
        decided, rest = order[:DECISIONS], order[DECISIONS:]
        model = train([Decision(items[r["n"]], r["relevant"], r["topic"]) for r in decided], cold)
        ranked = {x.id: x for x in rank_with([items[r["n"]] for r in rest], cold, model)}
        for name, part in parts(rest).items():
            learned[name].append(measure(part, ranked))
        found, topic = learned["all"][-1]
        plain.append(best_plain(decided, rest))
        weight = model.topic_weight if model else 0.0
        print(f"split {seed:2d}: AUC {found:.3f}  topic {topic:.3f}  "
              f"(plain TF-IDF LR {plain[-1]:.3f}; topic model's weight {weight:.1f})")  # fmt: skip
    for name, results in learned.items():
        aucs, topics = zip(*results, strict=True)
        print(f"after {DECISIONS} decisions, {name:11s} AUC {sum(aucs) / splits:.3f} "
              f"(worst {min(aucs):.3f})  topic {sum(topics) / splits:.3f} "
              f"(worst {min(topics):.3f})")  # fmt: skip
    print(f"plain TF-IDF LR on the same decisions (best C): topic {sum(plain) / splits:.3f}")
    cold_auc, cold_topic = measure(rows, at_start)
    aucs, topics = zip(*learned["all"], strict=True)
    print(
        f"rank_quality: cold_auc={cold_auc:.3f} cold_topic={cold_topic:.3f} "
        f"learned_auc={sum(aucs) / splits:.3f} learned_topic={sum(topics) / splits:.3f}"
    )


if __name__ == "__main__":
    main()

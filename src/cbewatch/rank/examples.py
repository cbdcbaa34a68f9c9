"""The field examples: short items written for each family of the lexicon (and for
"elsewhere"), shipped with cbewatch; a classifier trained on them, once per process, says
what an item is like before any decision has been made. It never reads the decisions.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path

import numpy as np

from ..lexicon import stems
from .tuning import DEFAULT_TUNING, Tuning
from .words import WordWeights

EXAMPLES_FILE = Path(__file__).parent.parent / "field_examples.jsonl"
ELSEWHERE = "elsewhere"  # the examples' family of items that are not the field's


class FieldExamples:
    """A classifier over the lexicon's families, trained on the bundled examples."""

    def __init__(
        self, path: Path, *, c: float, min_df: int, max_iter: int, summary_words: int, seed: int
    ) -> None:
        from sklearn.linear_model import LogisticRegression

        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        self.signature = examples_signature(path)
        texts = [heading_words(stems(r["title"]), stems(r["summary"]), summary_words)
                 for r in rows]  # fmt: skip
        self.words = WordWeights(texts, min_df=min_df)
        x = self.words.transform(texts)
        self.model = LogisticRegression(C=c, max_iter=max_iter, random_state=seed)
        self.model.fit(x, [r["family"] for r in rows])
        self.families: tuple[str, ...] = tuple(self.model.classes_)

    def likeness(self, headings: Sequence[list[str]]) -> list[np.ndarray | None]:
        """Per item, the probability of each family (as `families`); None for an item
        with no word the examples know (the classifier would answer its base rates)."""
        x = self.words.transform(headings)
        probabilities = self.model.predict_proba(x)
        return [row if x.indptr[k + 1] > x.indptr[k] else None
                for k, row in enumerate(probabilities)]  # fmt: skip


def heading_words(title: list[str], summary: list[str], summary_words: int) -> list[str]:
    """What the field examples are compared on: a title's stems twice, then its summary's
    first words (the examples are headlines with a one-or-two-sentence summary)."""
    return [*title, *title, *summary[:summary_words]]


@cache
def examples_signature(path: Path = EXAMPLES_FILE) -> str:
    """A digest of the examples file: what the classifier is trained on."""
    return hashlib.sha256(path.read_bytes()).hexdigest()


def field_examples(path: Path = EXAMPLES_FILE, tuning: Tuning = DEFAULT_TUNING) -> FieldExamples:
    """The examples' classifier, trained once per process for each file and the settings it
    reads (not the whole Tuning: a setting of the learned models needs no new classifier)."""
    return _trained(
        path,
        c=tuning.examples_c,
        min_df=tuning.examples_min_df,
        max_iter=tuning.examples_max_iter,
        summary_words=tuning.summary_words,
        seed=tuning.seed,
    )


@cache
def _trained(
    path: Path, *, c: float, min_df: int, max_iter: int, summary_words: int, seed: int
) -> FieldExamples:
    # keyed by exactly the classifier's arguments: a setting it comes to read joins the key
    return FieldExamples(
        path, c=c, min_df=min_df, max_iter=max_iter, summary_words=summary_words, seed=seed
    )

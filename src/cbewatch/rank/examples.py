"""The field examples: short items written for each family of the lexicon (and for
"elsewhere"), shipped with cbewatch; a classifier trained on them says what an item is
like before any decision has been made. It never reads the decisions.

It ships trained: `field_examples.npz` beside the examples, plain arrays keyed by the
examples and the settings it was trained with (scripts/ship_field_examples.py writes it
again; a test fails while it is stale). A process with other examples or settings trains
once (rank/fit.py's multinomial regression, under a second) and keeps the result in the
data directory (`rank-examples-<signature>.pickle`, signed: rank/signed.py), keyed by what
it is made of — the examples, its settings and this code — so a change to any of them
trains it again, and a damaged or foreign file is never trusted.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from .. import __version__
from ..lexicon import stems
from .fit import fit_multinomial
from .linear import Linear
from .signed import read_signed, write_signed
from .tuning import DEFAULT_TUNING, Tuning
from .words import WordWeights

EXAMPLES_FILE = Path(__file__).parent.parent / "field_examples.jsonl"
SHIPPED_FILE = EXAMPLES_FILE.with_suffix(".npz")  # the classifier, trained at release
ELSEWHERE = "elsewhere"  # the examples' family of items that are not the field's


class FieldExamples:
    """A classifier over the lexicon's families, trained on the bundled examples."""

    def __init__(self, words: WordWeights, model: Linear, signature: str) -> None:
        self.words = words
        self.model = model  # plain arrays (rank/linear.py)
        self.signature = signature  # of the examples file it was trained on
        self.families: tuple[str, ...] = model.classes

    @classmethod
    def trained(cls, path: Path, *, c: float, min_df: int, summary_words: int) -> FieldExamples:
        rows = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]
        texts = [heading_words(stems(r["title"]), stems(r["summary"]), summary_words)
                 for r in rows]  # fmt: skip
        words = WordWeights(texts, min_df=min_df)
        model = fit_multinomial(words.transform(texts), [r["family"] for r in rows], c)
        return cls(words, model, examples_signature(path))

    def save(self, path: Path, key: str) -> None:
        """The arrays alone (no pickle: loading runs no code), under `key`."""
        np.savez_compressed(
            path,
            key=np.array(key),
            names=np.array(self.words.names),
            idf=self.words.idf,
            coef=self.model.coef,
            intercept=self.model.intercept,
            classes=np.array(self.families),
        )

    @classmethod
    def shipped(cls, path: Path, key: str, signature: str) -> FieldExamples | None:
        """The classifier in `path` if it was trained under `key`, else None."""
        try:
            with np.load(path, allow_pickle=False) as saved:
                if str(saved["key"]) != key:
                    return None
                names, idf = saved["names"].tolist(), saved["idf"]
                classes = tuple(saved["classes"].tolist())
                coef, intercept = saved["coef"], saved["intercept"]
        except Exception:  # missing, damaged, not ours: trained instead, never trusted
            return None
        rows = len(classes) if len(classes) > 2 else 1
        if coef.shape != (rows, len(names)) or idf.shape != (len(names),) or len(intercept) != rows:
            return None
        return cls(WordWeights.of(names, idf), Linear(coef, intercept, classes), signature)

    def likeness(self, headings: Sequence[list[str]]) -> list[np.ndarray | None]:
        """Per item, the probability of each family (as `families`); None for an item
        with no word the examples know (the classifier would answer its base rates)."""
        x = self.words.transform(headings)
        probabilities = self.model.probabilities(x)
        return [row if x.indptr[k + 1] > x.indptr[k] else None
                for k, row in enumerate(probabilities)]  # fmt: skip


def heading_words(title: list[str], summary: list[str], summary_words: int) -> list[str]:
    """What the field examples are compared on: a title's stems twice, then its summary's
    first words (the examples are headlines with a one-or-two-sentence summary)."""
    return [*title, *title, *summary[:summary_words]]


def examples_signature(path: Path = EXAMPLES_FILE) -> str:
    """A digest of the examples file: what the classifier is trained on."""
    found = path.stat()
    return _digest(path, found.st_mtime_ns, found.st_size)


def classifier_signature(path: Path = EXAMPLES_FILE) -> str:
    """What the classifier a process uses is made of: the examples, and the shipped
    classifier's own bytes when there is one (shipped again, it may differ a little)."""
    shipped = path.with_suffix(".npz")
    made_of = [examples_signature(path), EXAMPLES_FORMAT]
    if shipped.exists():
        made_of.append(examples_signature(shipped))
    return hashlib.sha256(repr(made_of).encode()).hexdigest()


@cache
def _digest(path: Path, mtime_ns: int, size: int) -> str:  # read again when it changes
    return hashlib.sha256(path.read_bytes()).hexdigest()


def field_examples(
    path: Path = EXAMPLES_FILE, tuning: Tuning = DEFAULT_TUNING, data_dir: Path | None = None
) -> FieldExamples:
    """The examples' classifier for a file and the settings it reads (not the whole Tuning:
    a setting of the learned models needs no new classifier), once per process: the
    shipped one when it was trained on these; else trained, and kept in `data_dir` when
    one is given, so that the next process only reads it."""
    return _trained(path, data_dir, **classifier_settings(tuning))


def classifier_settings(tuning: Tuning) -> dict[str, Any]:
    """The settings the classifier reads, as FieldExamples.trained takes them."""
    return {
        "c": tuning.examples_c,
        "min_df": tuning.examples_min_df,
        "summary_words": tuning.summary_words,
    }


# The classifier's code: raise it when what FieldExamples builds changes (2: plain arrays;
# 3: fitted by rank/fit.py, not scikit-learn).
EXAMPLES_FORMAT = 3
STORED_PREFIX = "rank-examples-"


@cache
def _trained(path: Path, data_dir: Path | None, **settings: Any) -> FieldExamples:
    # keyed by exactly the classifier's arguments: a setting it comes to read joins the key
    signature = examples_signature(path)
    key = shipped_key(path, settings)
    shipped = FieldExamples.shipped(path.with_suffix(".npz"), key, signature)
    if shipped is not None:
        return shipped
    if data_dir is None:
        return _built(path, signature, **settings)
    stored = data_dir / f"{STORED_PREFIX}{stored_signature(path, settings)[:32]}.pickle"
    found = read_signed(stored)
    if isinstance(found, FieldExamples) and found.signature == signature:
        return found
    built = _built(path, signature, **settings)
    write_signed(stored, built)
    for old in data_dir.glob(f"{STORED_PREFIX}*.pickle"):  # others' keys are stale now
        if old != stored:
            old.unlink(missing_ok=True)
    return built


@cache
def _built(path: Path, signature: str, **settings: Any) -> FieldExamples:
    """Trained once per process for each examples file (`signature`: its contents) and
    settings, whichever data directory keeps it: a process that runs on a second
    database (the benchmarks after their warm-up) does not train again."""
    return FieldExamples.trained(path, **settings)


def shipped_key(path: Path, settings: dict[str, Any]) -> str:
    """What the shipped classifier must have been trained on: the examples, settings and
    this code's format (not cbewatch's version: a release changes no classifier)."""
    made_of = (examples_signature(path), sorted(settings.items()), EXAMPLES_FORMAT)
    return hashlib.sha256(repr(made_of).encode()).hexdigest()


def stored_signature(path: Path, settings: dict[str, Any]) -> str:
    """What the kept classifier is made of: the examples, its settings, the code."""
    made_of = (
        examples_signature(path),
        sorted(settings.items()),
        EXAMPLES_FORMAT,
        __version__,
    )
    return hashlib.sha256(repr(made_of).encode()).hexdigest()


def ship() -> str:
    """Train the classifier on the bundled examples with the default settings and write
    it beside them (`SHIPPED_FILE`, in the checkout when cbewatch is installed editable):
    scripts/ship_field_examples.py, after changing either."""
    settings = classifier_settings(DEFAULT_TUNING)
    built = FieldExamples.trained(EXAMPLES_FILE, **settings)
    built.save(SHIPPED_FILE, shipped_key(EXAMPLES_FILE, settings))
    return f"wrote {SHIPPED_FILE} ({len(built.words.names)} words, {len(built.families)} families)"

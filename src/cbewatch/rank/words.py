"""TF-IDF over lists of stems (WordWeights): the numbers scikit-learn's TfidfVectorizer
gives, counted by C loops. It must never differ from the vectorizer (a test holds it to
it). Transforming imports SciPy only; scikit-learn is never imported (its stop words are
copied in stop_words.txt).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from functools import cache
from itertools import chain, repeat
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..lexicon import stems

if TYPE_CHECKING:
    from scipy import sparse


STOP_WORDS_FILE = Path(__file__).with_name("stop_words.txt")


@cache
def _stop_stems() -> frozenset[str]:
    lines = STOP_WORDS_FILE.read_text(encoding="utf-8").splitlines()
    return frozenset(stems(" ".join(line for line in lines if not line.startswith("#"))))


class WordWeights:
    """TF-IDF over lists of stems, as scikit-learn's TfidfVectorizer computes it
    (sublinear tf, smoothed idf, rows of unit length, stop words left out, columns in
    alphabetical order), with the counting done by C loops: the vectorizer's own loop
    looks every token up in Python, and was a fifth of ranking's time.

    Raises ValueError when no word is left to learn from, as TfidfVectorizer does."""

    def __init__(self, docs: Sequence[list[str]], min_df: int = 1, max_df: float = 1.0) -> None:
        seen = Counter(chain.from_iterable(map(set, docs)))
        most = max_df * len(docs)
        stop = _stop_stems()
        self.names = sorted(w for w, n in seen.items() if min_df <= n <= most and w not in stop)
        if not self.names:
            raise ValueError("no word left to learn from")
        self.index = {w: column for column, w in enumerate(self.names)}
        df = np.array([seen[w] for w in self.names], dtype=float)
        self.idf = np.log((1 + len(docs)) / (1 + df)) + 1

    @classmethod
    def of(cls, names: list[str], idf: np.ndarray) -> WordWeights:
        """Weights already learned: the columns' words (in order) and their idf."""
        weights = cls.__new__(cls)
        weights.names, weights.idf = names, idf
        weights.index = {w: column for column, w in enumerate(names)}
        return weights

    def transform(self, docs: Sequence[list[str]]) -> sparse.csr_matrix:
        from scipy import sparse

        flat = list(chain.from_iterable(docs))
        columns = np.fromiter(map(self.index.get, flat, repeat(-1)), np.int64, len(flat))
        rows = np.repeat(np.arange(len(docs)), [len(d) for d in docs])
        known = columns >= 0
        counts = sparse.csr_matrix(
            (np.ones(int(known.sum())), (rows[known], columns[known])),
            shape=(len(docs), len(self.names)),
        )  # duplicate (row, column) pairs are summed: the counts
        counts.data = (1 + np.log(counts.data)) * self.idf[counts.indices]
        # rows of unit length (as sklearn's normalize: an empty row stays empty)
        rows_of = np.repeat(np.arange(len(docs)), np.diff(counts.indptr))
        norms = np.sqrt(np.bincount(rows_of, counts.data**2, minlength=len(docs)))
        counts.data /= norms[rows_of]
        return counts

"""Another field's vocabulary, widened from the stored items that carry its sections'
keywords: where the built-in knowledge does not apply (`ColdStart.knows_field`), an item
like a section's keyword-carrying items scores and is filed as theirs.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from .words import WordWeights

if TYPE_CHECKING:
    from .cold import Evidence


@dataclass(frozen=True)
class Kin:
    """Another field's sections have only their keywords: the stored items that carry them
    show what else each section's news says (`ColdStart.widen`). An item's kin to a section
    is its TF-IDF cosine with the centroid of that section's keyword-carrying items. Built
    from the stored items, never from the batch being ranked: an item's ranking must not
    depend on which other items happen to share its batch."""

    words: WordWeights
    sections: tuple[str, ...]
    centroids: np.ndarray  # a unit row per section

    @classmethod
    def of(cls, evidence: Sequence[Evidence], names: Sequence[str]) -> Kin | None:
        """None when no stored item carries a keyword, or none has a word to compare on."""
        seeds: dict[str, list[int]] = defaultdict(list)
        for row, found in enumerate(evidence):
            if found.topics:
                seeds[max(found.topics.items(), key=lambda pair: (pair[1], pair[0]))[0]].append(row)
        if not seeds:
            return None
        try:
            words = WordWeights([e.words for e in evidence])
        except ValueError:  # no word to compare on
            return None
        x = words.transform([e.words for e in evidence])
        sections = tuple(name for name in names if name in seeds)
        centroids = np.vstack([np.asarray(x[seeds[name]].mean(axis=0)) for name in sections])
        centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
        return cls(words, sections, centroids)

    def apply(self, evidence: Sequence[Evidence]) -> None:
        x = self.words.transform([e.words for e in evidence])
        similarity = np.asarray(x @ self.centroids.T)
        for found, row in zip(evidence, similarity.tolist(), strict=True):
            found.kin = {n: value for n, value in zip(self.sections, row, strict=True) if value > 0}

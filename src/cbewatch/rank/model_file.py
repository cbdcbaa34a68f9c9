"""The model file in data_dir: what a learned model holds, the fingerprint of what it was
trained on, and writing and reading it. Never crashes on a missing, stale or corrupt file:
it answers None, and the model is rebuilt from the decisions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from ..config import Settings
from .cold import ColdStart
from .linear import Calibrated, Linear
from .signed import read_signed, write_signed
from .values import Decision

if TYPE_CHECKING:
    from .words import WordWeights

MODEL_FILE = "rank-model.pickle"
# 5: WordWeights in place of TfidfVectorizer; 6: the classes moved into the rank package,
# and the settings (Tuning) are all in the fingerprint; 7: the topic model's weight is
# chosen on the decisions (topic_weight); 8: signed (rank/signed.py); 9: the topic model
# is fitted on the columns its rows use (topic_columns), and the models are plain arrays;
# 10: the relevance model's weight is chosen on the decisions (relevance_weight); 11: fitted
# by rank/fit.py, not scikit-learn (whose version no longer matters, nor is it installed).
MODEL_FORMAT = 11


@dataclass
class LearnedModel:
    """Models trained on the curators' decisions, with what they were trained on."""

    fingerprint: str
    decisions: int
    topic_names: tuple[str, ...]
    families: tuple[str, ...]  # the lexicon's concept families, one feature each
    words: WordWeights | None  # None when the decided items had no word to learn
    sources: tuple[str, ...]  # the decided items' sources, one column each, sorted
    # Plain arrays (rank/linear.py), fitted by rank/fit.py.
    relevance: Calibrated | None = None  # None with too few decisions; its estimator's
    # coefficients say why
    relevance_weight: float = 0.0  # how much it counts against the cold start
    topic_model: Linear | None = None
    topic_columns: np.ndarray | None = None  # the columns the topic model was fitted on
    topic_examples: int = 0
    topic_weight: float = 0.0  # how much the topic model counts against the built-in vote
    seconds: float = 0.0


def decisions_fingerprint(decisions: Sequence[Decision], cold: ColdStart) -> str:
    """Changes whenever a decision, its topic, the config's topics, the lexicon, the field
    examples, a setting (`cold.signature`) or the file's format change."""
    digest = hashlib.sha256(f"{MODEL_FORMAT}\x1e{cold.signature}".encode())
    for d in sorted(decisions, key=lambda d: d.item.id):
        digest.update(f"\x1e{d.item.id}:{int(d.accepted)}:{d.topic or ''}".encode())
    return digest.hexdigest()


def model_path(settings: Settings) -> Path:
    return settings.data_dir / MODEL_FILE


def load_model(path: Path, fingerprint: str) -> LearnedModel | None:
    """The stored model if it was trained on exactly these decisions; None otherwise
    (missing, unsigned, damaged, of another format, or stale)."""
    payload = read_signed(path)
    try:
        model = payload["model"]
        fresh = (
            payload["format"] == MODEL_FORMAT
            and isinstance(model, LearnedModel)
            and model.fingerprint == fingerprint
        )
    except Exception:  # not the payload we write: rebuild it
        return None
    return model if fresh else None


def save_model(path: Path, model: LearnedModel) -> None:
    """Write it signed (rank/signed.py) and atomically."""
    payload = {
        "format": MODEL_FORMAT,
        "decisions": model.decisions,
        "model": model,
    }
    write_signed(path, payload)

"""The model file in data_dir: what a learned model holds, the fingerprint of what it was
trained on, and writing and reading it. Never crashes on a missing, stale or corrupt file:
it answers None, and the model is rebuilt from the decisions.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..config import Settings
from .cold import ColdStart
from .signed import read_signed, write_signed
from .values import Decision

if TYPE_CHECKING:  # scikit-learn loads only when a model is trained or used
    from sklearn.feature_extraction import DictVectorizer
    from sklearn.linear_model import LogisticRegression

    from .words import WordWeights

MODEL_FILE = "rank-model.pickle"
# 5: WordWeights in place of TfidfVectorizer; 6: the classes moved into the rank package,
# and the settings (Tuning) are all in the fingerprint; 7: the topic model's weight is
# chosen on the decisions (topic_weight); 8: signed (rank/signed.py).
MODEL_FORMAT = 8


@dataclass
class LearnedModel:
    """Models trained on the curators' decisions, with what they were trained on."""

    fingerprint: str
    decisions: int
    topic_names: tuple[str, ...]
    families: tuple[str, ...]  # the lexicon's concept families, one feature each
    words: WordWeights | None  # None when the decided items had no word to learn
    sources: DictVectorizer
    relevance: Any | None = None  # a calibrated classifier, None with too few decisions
    explainer: LogisticRegression | None = None  # its coefficients say why
    topic_model: LogisticRegression | None = None
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
    (missing, unsigned, damaged, from another scikit-learn, or stale)."""
    payload = read_signed(path)
    try:
        model = payload["model"]
        fresh = (
            payload["format"] == MODEL_FORMAT
            and payload["sklearn"] == _sklearn_version()
            and isinstance(model, LearnedModel)
            and model.fingerprint == fingerprint
        )
    except Exception:  # not the payload we write: rebuild it
        return None
    return model if fresh else None


def _sklearn_version() -> str:
    import sklearn

    return sklearn.__version__


def save_model(path: Path, model: LearnedModel) -> None:
    """Write it signed (rank/signed.py) and atomically."""
    payload = {
        "format": MODEL_FORMAT,
        "sklearn": _sklearn_version(),
        "decisions": model.decisions,
        "model": model,
    }
    write_signed(path, payload)

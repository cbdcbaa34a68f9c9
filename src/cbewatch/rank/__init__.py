"""Relevance and topic suggestion: a cold-start score from the config's topic keywords, the
field lexicon and a classifier of bundled field examples, then models learned from the
curators' decisions that blend in and take over as decisions grow. Plain values in, plain
values out; scores are deterministic.

Never crashes on a missing, stale or corrupt model file: it is rebuilt from the decisions.
This package only re-exports; each job lives in its own module:

    tuning.py      every setting that changes the models or the rankings (Tuning)
    values.py      RankInput, Decision, Ranking
    words.py       TF-IDF over stems (WordWeights)
    examples.py    the field examples' classifier
    cold.py        the cold start: phrase evidence and likeness to the examples
    learned.py     models learned from the decisions, and their blend with the cold start
    fit.py         fitting them: logistic regressions, Platt's sigmoid, folds, ROC AUC
    linear.py      fitted models as plain arrays (what the kept files hold)
    model_file.py  the model file: LearnedModel, its fingerprint, load and save
    stage.py       the stage: the store in, (re)training, the rankings out
"""

from .cold import ColdStart, Evidence
from .examples import ELSEWHERE, EXAMPLES_FILE, FieldExamples, field_examples, heading_words
from .learned import rank_with, train
from .model_file import (
    MODEL_FILE,
    MODEL_FORMAT,
    LearnedModel,
    decisions_fingerprint,
    load_model,
    model_path,
    save_model,
)
from .stage import RankSummary, current_model, rank_new_items
from .tuning import DEFAULT_TUNING, Tuning
from .values import Decision, Ranking, RankInput
from .words import WordWeights

__all__ = [
    "DEFAULT_TUNING",
    "ELSEWHERE",
    "EXAMPLES_FILE",
    "MODEL_FILE",
    "MODEL_FORMAT",
    "ColdStart",
    "Decision",
    "Evidence",
    "FieldExamples",
    "LearnedModel",
    "RankInput",
    "RankSummary",
    "Ranking",
    "Tuning",
    "WordWeights",
    "current_model",
    "decisions_fingerprint",
    "field_examples",
    "heading_words",
    "load_model",
    "model_path",
    "rank_new_items",
    "rank_with",
    "save_model",
    "train",
]

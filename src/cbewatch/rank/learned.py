"""Learning from the curators' decisions: relevance and topic models over the items' words
(TF-IDF), their source and the cold-start evidence, blended with the cold start as the
decisions grow. Deterministic: the same decisions and items always give the same rankings.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

import numpy as np

from .cold import ColdStart, Evidence, cold_ranking, temper
from .fit import calibrated_binary, fit_binary, fit_multinomial, roc_auc
from .model_file import LearnedModel, decisions_fingerprint
from .tuning import Tuning
from .values import Decision, Ranking, RankInput
from .words import WordWeights

if TYPE_CHECKING:  # SciPy loads only when a model is used or trained, so commands that
    # never rank (items, triage, sources) start quickly (rank/fit.py fits the models).
    from scipy import sparse


def train(decisions: Sequence[Decision], cold: ColdStart) -> LearnedModel | None:
    """Fit the relevance and topic models; None when there is nothing to learn from."""
    if not decisions:
        return None
    started = time.perf_counter()
    ordered = sorted(decisions, key=lambda d: d.item.id)
    items = [d.item for d in ordered]
    evidence = cold.read(items)
    model = LearnedModel(
        fingerprint=decisions_fingerprint(ordered, cold),
        decisions=len(ordered),
        topic_names=cold.topic_names,
        families=cold.families,
        words=_fitted_words(evidence, cold.tuning),
        sources=tuple(sorted({i.source for i in items})),
    )
    base = _features(model, cold, items, evidence)
    _fit_relevance(model, ordered, base, np.array([e.score for e in evidence]), cold.tuning)
    lexical = cold.topic_matrix(evidence)
    _fit_topics(
        model, ordered, _with_topic_shares(base, lexical, cold.tuning), lexical, cold.tuning
    )
    model.seconds = time.perf_counter() - started
    return model


def _fitted_words(evidence: Sequence[Evidence], tuning: Tuning) -> WordWeights | None:
    """The vocabulary of the decided items, less words in most of them (once there are
    enough items for that to mean something); None when no word is left (every decided
    item empty or made of stop words), and the model learns from the rest."""
    max_df = tuning.words_max_df if len(evidence) >= tuning.words_max_df_from else 1.0
    try:
        return WordWeights([e.words for e in evidence], max_df=max_df)
    except ValueError:
        return None


def _features(
    model: LearnedModel, cold: ColdStart, items: Sequence[RankInput], evidence: Sequence[Evidence]
) -> sparse.csr_matrix:
    """Words, source, the cold-start score, the lexicon's evidence per concept family and
    the likeness to each family of field examples: the relevance model's columns."""
    from scipy import sparse

    tuning = cold.tuning
    phrases = np.array([[e.families.get(f, 0.0) for f in model.families] for e in evidence])
    families = cold.like_families
    likeness = np.array([[e.likeness.get(f, 0.0) for f in families] for e in evidence])
    dense = np.hstack(
        [
            np.array([[e.score * tuning.cold_feature_scale] for e in evidence]),
            np.sign(phrases) * np.log1p(np.abs(phrases)),  # diminishing returns, either sign
            likeness * tuning.likeness_feature_scale,
        ]
    ).reshape(len(evidence), -1)
    words = [e.words for e in evidence]
    blocks = [
        model.words.transform(words) if model.words else sparse.csr_matrix((len(items), 0)),
        _source_columns(model.sources, items),
        sparse.csr_matrix(dense),
    ]
    return sparse.hstack(blocks, format="csr")


def _source_columns(sources: Sequence[str], items: Sequence[RankInput]) -> sparse.csr_matrix:
    """A 1 in the column of each item's source (none for a source no decision came from)."""
    from scipy import sparse

    column = {name: k for k, name in enumerate(sources)}
    found = [(row, column[i.source]) for row, i in enumerate(items) if i.source in column]
    rows, columns = zip(*found, strict=True) if found else ((), ())
    ones = np.ones(len(found))
    return sparse.csr_matrix((ones, (rows, columns)), shape=(len(items), len(sources)))


def _with_topic_shares(
    base: sparse.csr_matrix, lexical: np.ndarray, tuning: Tuning
) -> sparse.csr_matrix:
    """The topic model's columns: the relevance columns and the lexicon's topic shares."""
    from scipy import sparse

    shares = sparse.csr_matrix(lexical * tuning.lexicon_topic_scale)
    return sparse.hstack([base, shares], format="csr")


def _fit_relevance(
    model: LearnedModel,
    ordered: Sequence[Decision],
    x: sparse.csr_matrix,
    cold: np.ndarray,
    tuning: Tuning,
) -> None:
    y = np.array([int(d.accepted) for d in ordered])
    smaller = int(min(y.sum(), len(y) - y.sum()))
    if smaller < tuning.min_per_class:
        return
    folds = min(tuning.calibration_folds, smaller)
    model.relevance = calibrated_binary(x, y, tuning.relevance_c, _balanced(tuning), folds)
    model.relevance_weight = _relevance_weight(x, y, cold, tuning)


def _balanced(tuning: Tuning) -> bool:
    return tuning.relevance_class_weight == "balanced"


def _relevance_weight(
    x: sparse.csr_matrix, y: np.ndarray, cold: np.ndarray, tuning: Tuning
) -> float:
    """How much the curators' relevance model counts against the cold start: the weight
    that would have ranked the decided items best (ROC AUC), each scored by a model that
    had not seen it (k-fold over the last `relevance_cv_rows`). A field the built-in
    knowledge does not know hands over as soon as the decisions rank better; one where the
    cold start ranks better than a few decisions can keeps it. Of weights that rank them
    equally well, the one nearest `relevance_tie_weight` (half): where the decisions
    cannot tell, they have not shown the curators' model better. (A field the cold start
    knows ranks its decided items perfectly at most weights; ties went to the default
    hand-over, 0.86 at 60 decisions, and ranked the other items worse: AUC after 60
    decisions on the five held-out sets retired then, heldout to heldout5, 0.990, 0.995,
    0.996, 0.989, 0.985 → 0.991, 0.995, 0.996, 0.989, 0.987; ties to the cold start itself
    did about as well, but leave a cold start that tells nothing in charge.) Before
    `relevance_cv_from` decisions, or without two decisions of each kind for the folds, the
    default hand-over (half at `relevance_half` decisions)."""
    count = len(y)
    prior = count / (count + tuning.relevance_half)
    recent = np.arange(count)[-tuning.relevance_cv_rows :]
    x, y, cold = x[recent], y[recent], cold[recent]
    folds = min(tuning.relevance_folds, int(y.sum()), int(len(y) - y.sum()))
    if count < tuning.relevance_cv_from or folds < 2:
        return prior
    # folds that each hold both kinds of decision: each class dealt round in turn
    order = np.random.RandomState(tuning.seed).permutation(len(y))
    order = order[np.argsort(y[order], kind="stable")]
    fold_of = np.empty(len(y), dtype=int)
    fold_of[order] = np.arange(len(y)) % folds
    unseen = np.zeros(len(y))
    for fold in range(folds):
        test, train = fold_of == fold, fold_of != fold
        fitted = fit_binary(x[train], y[train], tuning.relevance_c, _balanced(tuning))
        unseen[test] = fitted.probabilities(x[test])[:, 1]
    # Uncalibrated, where ranking blends the calibrated model: calibrating these with the
    # model's own sigmoid (fitted on the same decisions) chose weights that ranked other
    # fields worse (after 30 decisions, AUC 0.639 → 0.556 and 0.780 → 0.695 on the two
    # held-out sets' other fields, now development data).
    learned = np.array([temper(p, tuning.score_temper) for p in unseen.tolist()])

    def ranked(weight: float) -> float:
        return round(float(roc_auc(y, weight * learned + (1 - weight) * cold)), 9)

    return _best_weight(ranked, tuning.relevance_weight_steps, tuning.relevance_tie_weight)


def _best_weight(measure: Callable[[float], float], steps: int, prior: float) -> float:
    """The weight in 0, 1/steps, … 1 that measures best; of equals, the nearest `prior`."""
    weights = np.linspace(0.0, 1.0, steps + 1).tolist()
    return max(weights, key=lambda w: (measure(w), -abs(w - prior)))


def _fit_topics(
    model: LearnedModel,
    ordered: Sequence[Decision],
    x: sparse.csr_matrix,
    lexical: np.ndarray,
    tuning: Tuning,
) -> None:
    rows = [
        i
        for i, d in enumerate(ordered)
        if d.accepted and d.topic in model.topic_names  # a topic since removed teaches nothing
    ]
    labels = np.array([ordered[i].topic for i in rows])
    if len(set(labels)) < 2:
        return
    # fitted on the columns its rows use (the rest would get no weight): the solver's cost
    model.topic_columns = np.unique(x[rows].indices)
    model.topic_model = fit_multinomial(x[rows][:, model.topic_columns], labels, tuning.topic_c)
    model.topic_examples = len(rows)
    model.topic_weight = _topic_weight(x[rows], labels, lexical[rows], model.topic_names, tuning)


def _topic_weight(
    x: sparse.csr_matrix,
    labels: np.ndarray,
    lexical: np.ndarray,
    names: Sequence[str],
    tuning: Tuning,
) -> float:
    """How much the curators' topic model counts against the built-in vote: the weight
    that would have filed the decided items best, each predicted by a model that had not
    seen it (k-fold). So the decisions take over exactly as fast as they prove better than
    the built-in knowledge on this field; a tie goes to the weight nearest the default
    hand-over (half at `topic_half` accepted items)."""
    count = len(labels)
    prior = count / (count + tuning.topic_half)
    if count < tuning.topic_cv_from:
        return prior
    recent = np.arange(count)[-tuning.topic_cv_rows :]  # bounded: retraining stays cheap
    x, labels, lexical = x[recent], labels[recent], lexical[recent]
    x = x[:, np.unique(x.indices)]  # the columns these rows use: the solver's cost
    folds = min(tuning.topic_folds, len(recent))
    unseen = np.zeros_like(lexical)
    order = np.random.RandomState(tuning.seed).permutation(len(recent))
    for fold in range(folds):
        test = order[fold::folds]
        train = np.setdiff1d(order, test)
        if len(set(labels[train])) < 2:
            continue  # this fold's model would know one section: it adds nothing
        fitted = fit_multinomial(x[train], labels[train], tuning.topic_c)
        unseen[test] = _by_name(fitted.classes, fitted.probabilities(x[test]), names)
    truth = np.array([names.index(label) for label in labels])

    def right(weight: float) -> int:
        return int((_blend(unseen, lexical, weight).argmax(axis=1) == truth).sum())

    return _best_weight(right, tuning.topic_weight_steps, prior)


def _by_name(classes: Sequence[str], probabilities: np.ndarray, names: Sequence[str]) -> np.ndarray:
    """A topic model's probabilities (columns as `classes`) in the columns of `names`."""
    out = np.zeros((probabilities.shape[0], len(names)))
    for column, name in enumerate(classes):
        if name in names:
            out[:, names.index(name)] = probabilities[:, column]
    return out


def _blend(learned: np.ndarray, lexical: np.ndarray, weight: float) -> np.ndarray:
    """The curators' topic model and the built-in vote (the model alone where the
    built-in knowledge has no opinion)."""
    has_lexical = lexical.sum(axis=1, keepdims=True) > 0
    return np.where(has_lexical, weight * learned + (1 - weight) * lexical, learned)


def rank_with(
    items: Sequence[RankInput], cold: ColdStart, model: LearnedModel | None
) -> list[Ranking]:
    """Score and suggest a topic for each item: cold start, blended with the model."""
    evidence = cold.read(items)
    if model is None or not items:
        return [cold_ranking(i, e) for i, e in zip(items, evidence, strict=True)]
    base = _features(model, cold, items, evidence)
    scores = _blended_scores(model, base, evidence, cold.tuning)
    topics = _blended_topics(model, cold, base, evidence)
    whys = _whys(model, base, evidence, topics)
    return [
        Ranking(item.id, float(s), t, w)
        for item, s, t, w in zip(items, scores, topics, whys, strict=True)
    ]


def _blended_scores(
    model: LearnedModel, base: sparse.csr_matrix, evidence: Sequence[Evidence], tuning: Tuning
) -> np.ndarray:
    cold = np.array([e.score for e in evidence])
    if model.relevance is None:
        return cold
    learned = model.relevance.positive(base)
    learned = np.array([temper(p, tuning.score_temper) for p in learned.tolist()])
    weight = model.relevance_weight  # as the decisions prove better (_relevance_weight)
    return np.round(weight * learned + (1 - weight) * cold, 6)


def _blended_topics(
    model: LearnedModel,
    cold: ColdStart,
    base: sparse.csr_matrix,
    evidence: Sequence[Evidence],
) -> list[str | None]:
    if model.topic_model is None:
        return [e.top_topic() for e in evidence]
    names = list(cold.topic_names)
    lexical = cold.topic_matrix(evidence)
    x = _with_topic_shares(base, lexical, cold.tuning)[:, model.topic_columns]
    probabilities = model.topic_model.probabilities(x)
    learned = _by_name(model.topic_model.classes, probabilities, names)
    blended = _blend(learned, lexical, model.topic_weight)
    return [
        None if e.unfiled else names[int(np.argmax(row))]
        for e, row in zip(evidence, blended, strict=True)
    ]


def _whys(
    model: LearnedModel,
    base: sparse.csr_matrix,
    evidence: Sequence[Evidence],
    topics: Sequence[str | None],
) -> list[str]:
    """The built-in evidence's words, then the curators' model's strongest reasons."""
    learned = _learned_reasons(model, base)
    return [
        found.why(topic, extra, limit=3)
        for found, topic, extra in zip(evidence, topics, learned, strict=True)
    ]


def _learned_reasons(model: LearnedModel, base: sparse.csr_matrix) -> list[list[str]]:
    if model.relevance is None:
        return [[] for _ in range(base.shape[0])]
    names = [
        *(model.words.names if model.words else ()),
        *(f"source: {s}" for s in model.sources),
    ]
    # each stored value times its column's coefficient (none for the dense columns)
    coefficients = np.zeros(base.shape[1])
    coefficients[: len(names)] = model.relevance.estimator.coef[0][: len(names)]
    contributions = base.data * coefficients[base.indices]
    rows = np.repeat(np.arange(base.shape[0]), np.diff(base.indptr))
    up = contributions > 0  # only what pushes the score up is a reason
    values, columns, rows = contributions[up], base.indices[up], rows[up]
    # one sort for all rows (by row, then largest first; ties by column, so they always
    # break the same way), then each row's first three
    order = np.lexsort((columns, -values, rows))
    starts = np.searchsorted(rows[order], rows[order], side="left")
    chosen = order[np.arange(len(order)) - starts < 3]
    reasons: list[list[str]] = [[] for _ in range(base.shape[0])]
    for row, column in zip(rows[chosen].tolist(), columns[chosen].tolist(), strict=True):
        reasons[row].append(names[column])
    return reasons

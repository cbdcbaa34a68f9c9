"""The curators' models are fitted without scikit-learn (rank/fit.py): each fit must solve
scikit-learn's own problem, so these tests hold it to scikit-learn run to a tight
tolerance, on data shaped like ranking's (sparse TF-IDF rows and a few dense columns)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import sparse
from sklearn.calibration import CalibratedClassifierCV, _sigmoid_calibration
from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import StratifiedKFold

from cbewatch.rank.fit import (
    calibrated_binary,
    fit_binary,
    fit_multinomial,
    platt,
    roc_auc,
    stratified_folds,
)
from cbewatch.rank.words import STOP_WORDS_FILE


def rows_like_ranking(count: int, classes: int, seed: int) -> tuple[sparse.csr_matrix, np.ndarray]:
    """Sparse rows whose words lean towards their class, with a dense score column."""
    rng = np.random.RandomState(seed)
    y = rng.randint(0, classes, count)
    words = sparse.random(count, 300, density=0.05, random_state=rng, format="csr")
    columns = y * 7 + rng.randint(0, 7, count)
    leaning = sparse.csr_matrix((np.ones(count), (np.arange(count), columns)), shape=(count, 300))
    score = (y + rng.normal(0, 1.5, count))[:, None] / classes
    return sparse.hstack([words + leaning, sparse.csr_matrix(score)], format="csr"), y


def tight(**settings: object) -> LogisticRegression:
    return LogisticRegression(tol=1e-10, max_iter=10_000, **settings)


@pytest.mark.parametrize("balanced", [True, False])
def test_binary_fits_are_liblinears(balanced: bool) -> None:
    x, y = rows_like_ranking(300, 2, seed=1)
    y[:200] = 0  # unbalanced: the class weights matter
    theirs = tight(C=10.0, solver="liblinear", class_weight="balanced" if balanced else None)
    theirs.fit(x, y)
    ours = fit_binary(x, y, 10.0, balanced)
    np.testing.assert_allclose(ours.decision(x)[:, 0], theirs.decision_function(x), atol=1e-3)
    # a start near the answer changes the iterations, never the answer
    started = fit_binary(x, y, 10.0, balanced, start=fit_binary(x[:250], y[:250], 10.0, balanced))
    np.testing.assert_allclose(started.decision(x), ours.decision(x), atol=1e-4)


@pytest.mark.parametrize("classes", [2, 3, 6])
def test_topic_fits_are_newton_cgs(classes: int) -> None:
    x, y = rows_like_ranking(240, classes, seed=classes)
    labels = np.array([f"section {k}" for k in y])
    theirs = tight(C=10.0, solver="newton-cg").fit(x, labels)
    ours = fit_multinomial(x, labels, 10.0)
    assert ours.classes == tuple(theirs.classes_.tolist())
    np.testing.assert_allclose(ours.probabilities(x), theirs.predict_proba(x), atol=1e-4)


def test_calibration_is_platts_over_stratified_folds() -> None:
    x, y = rows_like_ranking(200, 2, seed=4)
    theirs = CalibratedClassifierCV(
        tight(C=10.0, solver="liblinear", class_weight="balanced"),
        method="sigmoid", cv=5, ensemble=False,
    ).fit(x, y)  # fmt: skip
    ours = calibrated_binary(x, y, 10.0, balanced=True, folds=5)
    np.testing.assert_allclose(ours.positive(x), theirs.predict_proba(x)[:, 1], atol=1e-3)


@pytest.mark.parametrize("spread", [1.0, 100.0])  # 100: decision values scaled down first
def test_platt_is_scikit_learns_sigmoid(spread: float) -> None:
    rng = np.random.RandomState(5)
    y = rng.randint(0, 2, 150)
    decision = (y - 0.5 + rng.normal(0, 1, 150)) * spread
    np.testing.assert_allclose(platt(decision, y), _sigmoid_calibration(decision, y), rtol=1e-4)


@pytest.mark.parametrize(("count", "folds"), [(37, 5), (12, 3), (50, 2)])
def test_folds_are_stratified_k_folds(count: int, folds: int) -> None:
    y = np.random.RandomState(count).randint(0, 2, count)
    y[0] = 1  # the first row's class is numbered first, as scikit-learn numbers them
    theirs = np.empty(count, dtype=int)
    for fold, (_, test) in enumerate(StratifiedKFold(folds).split(np.zeros(count), y)):
        theirs[test] = fold
    assert stratified_folds(y, folds).tolist() == theirs.tolist()


def test_auc_is_roc_auc_score_ties_and_all() -> None:
    rng = np.random.RandomState(6)
    y = rng.randint(0, 2, 400)
    scores = np.round(rng.rand(400) + 0.3 * y, 1)  # many ties
    assert roc_auc(y, scores) == pytest.approx(roc_auc_score(y, scores), abs=1e-12)
    assert roc_auc(np.array([0, 1]), np.array([0.2, 0.9])) == 1.0


def test_the_stop_words_are_scikit_learns() -> None:
    lines = STOP_WORDS_FILE.read_text().splitlines()
    words = " ".join(line for line in lines if not line.startswith("#")).split()
    assert sorted(words) == sorted(ENGLISH_STOP_WORDS)

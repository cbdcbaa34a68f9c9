"""Fitting ranking's models: L2-regularized logistic regressions (binary and multinomial),
Platt's sigmoid calibration, stratified folds and ROC AUC, in numpy over SciPy's sparse
matrices. The curators' models and the field examples' classifier are fitted here.

Why not scikit-learn: importing it (and the parts of SciPy it pulls in) cost every
retraining process ~0.8 s, 40 % of retraining 2,000 decisions (issue 13 counts start-up),
and it was a large dependency for a few regressions. Each function solves the same
problem as its scikit-learn counterpart (named in its docstring), at least as closely as
scikit-learn's default tolerances do, and tests hold them to it (scikit-learn is a test
dependency only).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, NamedTuple

import numpy as np

from .linear import Calibrated, Linear, expit

if TYPE_CHECKING:
    from scipy import sparse


class Point(NamedTuple):
    """An objective at a point: its value, gradient and Hessian-vector product."""

    loss: float
    gradient: np.ndarray
    times: Callable[[np.ndarray], np.ndarray]


Objective = Callable[[np.ndarray], Point]


def fit_binary(
    x: sparse.csr_matrix,
    y: np.ndarray,
    c: float,
    balanced: bool = True,
    start: Linear | None = None,
) -> Linear:
    """LogisticRegression(C=c, class_weight="balanced" or None, solver="liblinear") on
    labels 0 and 1, both present: the intercept is a column of ones and is regularized like
    the rest, as liblinear does.
    `start`, a model fitted on similar rows, only saves iterations."""
    y = np.asarray(y)
    weight = np.full(len(y), c)
    if balanced:
        positives = float(y.sum())
        weight *= np.where(y == 1, len(y) / (2 * positives), len(y) / (2 * (len(y) - positives)))
    rows = _with_ones(x)
    w0 = np.zeros(rows.shape[1]) if start is None else np.r_[start.coef[0], start.intercept]
    w = _newton_cg(_binary_objective(rows, y, weight, np.ones(rows.shape[1])), w0)
    return Linear(w[None, :-1], w[-1:], (0, 1))


def fit_multinomial(x: sparse.csr_matrix, labels: Sequence[str], c: float) -> Linear:
    """LogisticRegression(C=c, solver="newton-cg"): multinomial over three or more classes,
    the binary problem over two, the intercepts never regularized."""
    classes, index = np.unique(np.asarray(labels), return_inverse=True)
    rows = _with_ones(x)
    n, width = rows.shape
    free = np.ones(width)
    free[-1] = 0.0  # the intercept's row: no penalty
    names = tuple(classes.tolist())
    if len(classes) == 2:  # as scikit-learn: one column, the second class against the first
        weight = np.full(n, c)
        w = _newton_cg(_binary_objective(rows, index, weight, free), np.zeros(width))
        return Linear(w[None, :-1], w[-1:], names)
    truth = np.zeros((n, len(classes)))
    truth[np.arange(n), index] = 1.0
    free = free[:, None]

    def objective(flat: np.ndarray) -> Point:
        w = flat.reshape(width, -1)
        scores = np.asarray(rows @ w)
        scores -= scores.max(axis=1, keepdims=True)
        logs = scores - np.log(np.exp(scores).sum(axis=1, keepdims=True))
        chances = np.exp(logs)
        loss = 0.5 * float((free * w * w).sum()) - c * float((truth * logs).sum())
        gradient = free * w + c * np.asarray(rows.T @ (chances - truth))

        def times(v: np.ndarray) -> np.ndarray:
            v = v.reshape(width, -1)
            along = np.asarray(rows @ v)
            bent = chances * (along - (chances * along).sum(axis=1, keepdims=True))
            return (free * v + c * np.asarray(rows.T @ bent)).ravel()

        return Point(loss, gradient.ravel(), times)

    w = _newton_cg(objective, np.zeros(width * len(classes))).reshape(width, -1)
    return Linear(w[:-1].T.copy(), w[-1].copy(), names)


def _binary_objective(
    rows: sparse.csr_matrix, y: np.ndarray, weight: np.ndarray, free: np.ndarray
) -> Objective:
    """Σ weight·log(1 + exp(-margin)) + ½ Σ free·w²: `free` is 0 where a coefficient is
    not regularized."""
    sign = np.where(np.asarray(y) == 1, 1.0, -1.0)

    def objective(w: np.ndarray) -> Point:
        margin = sign * (rows @ w)
        chance = expit(margin)
        loss = 0.5 * float(w @ (free * w)) + float(weight @ np.logaddexp(0.0, -margin))
        gradient = free * w + rows.T @ (weight * (chance - 1.0) * sign)
        curvature = weight * chance * (1.0 - chance)
        return Point(loss, gradient, lambda v: free * v + rows.T @ (curvature * (rows @ v)))

    return objective


def _newton_cg(objective: Objective, w: np.ndarray, tolerance: float = 1e-6) -> np.ndarray:
    """Newton's method, each step solved by conjugate gradients, with a backtracking line
    search; stops when the gradient has shrunk by `tolerance` (or after 100 steps)."""
    at = objective(w)
    stop = tolerance * max(float(np.linalg.norm(at.gradient)), 1.0)
    for _ in range(100):
        size = float(np.linalg.norm(at.gradient))
        if size <= stop:
            break
        step = _conjugate_gradient(at, min(0.5, np.sqrt(size)) * size)
        if not step.any():  # the curvature vanished along the gradient: nowhere to go
            break
        slope = float(at.gradient @ step)
        length = 1.0
        while True:
            new = objective(w + length * step)
            if new.loss <= at.loss + 1e-4 * length * slope:
                break
            length /= 2
            if length < 1e-10:  # no step lowers the loss: as near as float precision goes
                return w
        w = w + length * step
        at = new
    return w


def _conjugate_gradient(at: Point, tolerance: float) -> np.ndarray:
    """The Newton step: solves H p = -gradient to `tolerance` by conjugate gradients (a
    diagonal preconditioner took more steps on ranking's rows, not fewer)."""
    p = np.zeros_like(at.gradient)
    residual = -at.gradient
    direction = residual.copy()
    squared = float(residual @ residual)
    for _ in range(max(10, len(p))):
        bent = at.times(direction)
        curve = float(direction @ bent)
        if curve <= 1e-20:
            break
        alpha = squared / curve
        p += alpha * direction
        residual -= alpha * bent
        new = float(residual @ residual)
        if np.sqrt(new) <= tolerance:
            break
        direction = residual + (new / squared) * direction
        squared = new
    return p


def calibrated_binary(
    x: sparse.csr_matrix, y: np.ndarray, c: float, balanced: bool, folds: int
) -> Calibrated:
    """CalibratedClassifierCV(fit_binary's regression, method="sigmoid", cv=folds,
    ensemble=False): the regression fitted on every row, and Platt's sigmoid fitted on
    the decision values each row got from a regression fitted without its fold."""
    fitted = fit_binary(x, y, c, balanced)
    unseen = np.zeros(len(y))
    fold_of = stratified_folds(y, folds)
    for fold in range(folds):
        test = fold_of == fold
        part = fit_binary(x[~test], y[~test], c, balanced, start=fitted)
        unseen[test] = part.decision(x[test])[:, 0]
    a, b = platt(unseen, y)
    return Calibrated(fitted, a, b)


def platt(decision: np.ndarray, y: np.ndarray) -> tuple[float, float]:
    """scikit-learn's _sigmoid_calibration: a and b of P(1) = 1 / (1 + exp(a f + b)),
    fitted to Platt's smoothed targets (decision values of 30 or more scaled down first)."""
    largest = float(np.abs(decision).max())
    scale = largest if largest >= 30 else 1.0
    f = decision / scale
    negatives = float((y <= 0).sum())
    positives = len(y) - negatives
    target = np.where(y > 0, (positives + 1) / (positives + 2), 1 / (negatives + 2))
    ab = np.array([0.0, np.log((negatives + 1) / (positives + 1))])
    features = np.column_stack([-f, -np.ones_like(f)])  # raw prediction -(a f + b)

    def objective(w: np.ndarray) -> Point:
        raw = features @ w
        chance = expit(raw)
        loss = float((np.logaddexp(0.0, raw) - target * raw).sum())
        gradient = features.T @ (chance - target)
        hessian = features.T @ (features * (chance * (1 - chance))[:, None])
        return Point(loss, gradient, lambda v: hessian @ v)

    a, b = _newton_cg(objective, ab, tolerance=1e-10)
    return a / scale, b


def stratified_folds(y: np.ndarray, folds: int) -> np.ndarray:
    """Each row's fold, as StratifiedKFold(folds) without shuffling deals them."""
    _, first, index = np.unique(y, return_index=True, return_inverse=True)
    index = np.argsort(np.argsort(first))[index]  # classes numbered as they first appear
    dealt = np.sort(index)
    counts = np.array([np.bincount(dealt[k::folds], minlength=len(first)) for k in range(folds)])
    fold_of = np.empty(len(y), dtype=int)
    for k in range(len(first)):
        fold_of[index == k] = np.arange(folds).repeat(counts[:, k])
    return fold_of


def roc_auc(y: np.ndarray, scores: np.ndarray) -> float:
    """sklearn.metrics.roc_auc_score for labels 0 and 1 (both present): the chance that a
    positive row outscores a negative one, ties counting half (Mann-Whitney, with average
    ranks)."""
    order = np.argsort(scores, kind="mergesort")
    ranked = np.asarray(scores)[order]
    ends = np.r_[np.flatnonzero(np.diff(ranked)), len(ranked) - 1]
    starts = np.r_[0, ends[:-1] + 1]
    average = (starts + ends) / 2 + 1  # a tie's rows share their average rank
    ranks = np.empty(len(ranked))
    ranks[order] = np.repeat(average, ends - starts + 1)
    positives = np.asarray(y) == 1
    count = int(positives.sum())
    other = len(ranks) - count
    return float((ranks[positives].sum() - count * (count + 1) / 2) / (count * other))


def _with_ones(x: sparse.csr_matrix) -> sparse.csr_matrix:
    """The rows with a column of ones on the right (the intercept's)."""
    from scipy import sparse

    return sparse.hstack([x, sparse.csr_matrix(np.ones((x.shape[0], 1)))], format="csr")

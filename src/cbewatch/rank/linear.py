"""Fitted linear models as plain numpy arrays: what scoring needs of scikit-learn's
logistic regressions (and of a sigmoid calibration), so that a process that ranks
without retraining never imports scikit-learn, and the kept files hold no object of it.
Only training imports scikit-learn; tests hold these to its own predict_proba.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse


@dataclass(frozen=True)
class Linear:
    """A fitted LogisticRegression's coefficients, intercepts and classes."""

    coef: np.ndarray  # (1, features) for two classes, else (classes, features)
    intercept: np.ndarray
    classes: tuple[Any, ...]

    @classmethod
    def of(cls, fitted: Any) -> Linear:
        classes = tuple(fitted.classes_.tolist())
        return cls(np.array(fitted.coef_, dtype=float), np.array(fitted.intercept_), classes)

    def decision(self, x: sparse.csr_matrix | np.ndarray) -> np.ndarray:
        return np.asarray(x @ self.coef.T) + self.intercept

    def probabilities(self, x: sparse.csr_matrix | np.ndarray) -> np.ndarray:
        """As LogisticRegression.predict_proba: a sigmoid for two classes, else softmax."""
        decision = self.decision(x)
        if len(self.classes) <= 2:
            positive = _expit(decision[:, 0])
            return np.column_stack([1.0 - positive, positive])
        decision = decision - decision.max(axis=1, keepdims=True)
        exp = np.exp(decision)
        return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Calibrated:
    """CalibratedClassifierCV(ensemble=False) over a binary LogisticRegression: the
    regression fitted on all decisions, and the calibration of its decision values —
    Platt's sigmoid (a, b), or an isotonic curve (its thresholds)."""

    estimator: Linear
    a: float = 0.0
    b: float = 0.0
    curve: tuple[np.ndarray, np.ndarray] | None = None  # isotonic: (x, y) thresholds

    @classmethod
    def of(cls, fitted: Any) -> Calibrated:
        (only,) = fitted.calibrated_classifiers_
        (calibrator,) = only.calibrators
        estimator = Linear.of(only.estimator)
        if hasattr(calibrator, "X_thresholds_"):
            curve = (np.array(calibrator.X_thresholds_), np.array(calibrator.y_thresholds_))
            return cls(estimator, curve=curve)
        return cls(estimator, float(calibrator.a_), float(calibrator.b_))

    def positive(self, x: sparse.csr_matrix | np.ndarray) -> np.ndarray:
        """The calibrated probability of the second class (accepted)."""
        decision = self.estimator.decision(x)[:, 0]
        if self.curve is not None:  # clipped at both ends, as IsotonicRegression's "clip"
            return np.interp(decision, *self.curve)
        return _expit(-(self.a * decision + self.b))


def _expit(values: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-values))

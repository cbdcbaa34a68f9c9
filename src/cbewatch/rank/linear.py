"""Fitted linear models as plain numpy arrays: what scoring needs of a logistic
regression (and of Platt's sigmoid calibration). rank/fit.py fits them; the kept files
hold nothing else, and reading them runs no code but numpy's.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

if TYPE_CHECKING:
    from scipy import sparse


@dataclass(frozen=True)
class Linear:
    """A fitted logistic regression's coefficients, intercepts and classes."""

    coef: np.ndarray  # (1, features) for two classes, else (classes, features)
    intercept: np.ndarray
    classes: tuple[Any, ...]

    def decision(self, x: sparse.csr_matrix | np.ndarray) -> np.ndarray:
        return np.asarray(x @ self.coef.T) + self.intercept

    def probabilities(self, x: sparse.csr_matrix | np.ndarray) -> np.ndarray:
        """Each class's probability: a sigmoid for two classes, else softmax."""
        decision = self.decision(x)
        if len(self.classes) <= 2:
            positive = expit(decision[:, 0])
            return np.column_stack([1.0 - positive, positive])
        decision = decision - decision.max(axis=1, keepdims=True)
        exp = np.exp(decision)
        return exp / exp.sum(axis=1, keepdims=True)


@dataclass(frozen=True)
class Calibrated:
    """A binary logistic regression fitted on all decisions, and Platt's sigmoid (a, b)
    of its decision values (rank/fit.py's calibrated_binary)."""

    estimator: Linear
    a: float
    b: float

    def positive(self, x: sparse.csr_matrix | np.ndarray) -> np.ndarray:
        """The calibrated probability of the second class (accepted)."""
        return expit(-(self.a * self.estimator.decision(x)[:, 0] + self.b))


def expit(values: np.ndarray) -> np.ndarray:
    """The logistic function, without overflow at either end."""
    return 0.5 * (1.0 + np.tanh(0.5 * values))

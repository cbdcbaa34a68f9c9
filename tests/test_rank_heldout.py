"""Ranking on the fresh held-out set (tests/fixtures/heldout), written apart by a writer
who saw neither the lexicon nor the ranking corpus, after the vocabulary was frozen.

It was measured once (bench/rank_quality.py, 8 splits, 4 December 2026), and never tuned
on. Every floor here is 0.03 below what that first run measured, given beside it; the
issue's goals (topic 0.85 cold and 0.93 after 60 decisions, AUC 0.92 and 0.99) were not
all met, and the floors say what is, not what was hoped.
"""

from __future__ import annotations

import pytest

from bench.rank_quality import Figures, heldout_field, heldout_other_field

SPLITS = 8  # as in the first run: the figures are deterministic


@pytest.fixture(scope="module")
def field() -> Figures:
    return heldout_field(SPLITS)


@pytest.fixture(scope="module")
def other_field() -> Figures:
    return heldout_other_field(SPLITS)


def test_the_field_cold(field: Figures) -> None:
    auc, topic = field.cold["all"]
    assert auc >= 0.959  # measured 0.989
    assert topic >= 0.724  # measured 0.754 (a relevant item with no suggestion is wrong)


def test_the_field_after_60_decisions(field: Figures) -> None:
    auc, topic = field.mean()
    assert auc >= 0.955  # measured 0.985 (worst split 0.980)
    assert topic >= 0.742  # measured 0.772 (worst split 0.713)
    plain = sum(field.plain) / len(field.plain)
    assert topic >= plain  # a plain TF-IDF regression on the same decisions: 0.381


def test_another_field_cold(other_field: Figures) -> None:
    """Urban cycling advocacy, 4 sections: only the config's keywords know it."""
    auc, topic = other_field.cold["all"]
    assert auc >= 0.609  # measured 0.639
    assert topic >= 0.678  # measured 0.708


def test_another_field_after_30_decisions(other_field: Figures) -> None:
    auc, topic = other_field.mean()
    assert auc >= 0.567  # measured 0.597
    assert topic >= 0.587  # measured 0.617 (the plain regression: 0.583)

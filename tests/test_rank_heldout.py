"""Ranking on the held-out sets, written apart by writers who saw neither the lexicon nor
the ranking corpus, after the vocabulary was frozen.

The fresh set (tests/fixtures/heldout7: the field, and birding clubs as another field)
was measured once (bench/rank_quality.py, 8 splits, 4 December 2026, fifth session, after
that session's ranking changes were made on the development sets), and is never tuned
on. Every floor is 0.03 below what that first run measured, given beside it. The issue's
goals are topic 0.85 cold and 0.93 after 60 decisions, AUC 0.92 and 0.99: all met (topic
0.947 and 0.969, AUC 0.995 and 0.995).

The sets before it (tests/fixtures/heldout to heldout6) were measured once each the same
way, then retired to development: the ranking changes since were measured on them. Their
floors are those of their first runs, not raised since.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.rank_quality import RETIRED, Figures, heldout_field, heldout_other_field

SPLITS = 8  # as in the first runs: the figures are deterministic


@pytest.fixture(scope="module")
def field() -> Figures:
    return heldout_field(SPLITS)


@pytest.fixture(scope="module")
def other_field() -> Figures:
    return heldout_other_field(SPLITS)


def test_the_field_cold(field: Figures) -> None:
    auc, topic = field.cold["all"]
    assert auc >= 0.965  # measured 0.995
    assert topic >= 0.917  # measured 0.947 (a relevant item with no suggestion is wrong)


def test_the_field_after_60_decisions(field: Figures) -> None:
    auc, topic = field.mean()
    assert auc >= 0.965  # measured 0.995 (worst split 0.993)
    assert topic >= 0.939  # measured 0.969 (worst split 0.954)
    plain = sum(field.plain) / len(field.plain)
    assert topic >= plain  # a plain TF-IDF regression on the same decisions: 0.337


def test_another_field_cold(other_field: Figures) -> None:
    """Birding clubs, 4 sections: only the config's keywords know it."""
    auc, topic = other_field.cold["all"]
    assert auc >= 0.635  # measured 0.665
    assert topic >= 0.658  # measured 0.688


def test_another_field_after_30_decisions(other_field: Figures) -> None:
    auc, topic = other_field.mean()
    assert auc >= 0.782  # measured 0.812 (worst split 0.627)
    assert topic >= 0.647  # measured 0.677 (worst split 0.600)
    plain = sum(other_field.plain) / len(other_field.plain)
    assert topic >= plain  # the plain regression: 0.493


# Each retired set's first run: (AUC, topic) of the field cold and after 60 decisions, then
# of the other field cold and after 30. Floors are 0.03 below; never raised since.
FIRST_RUNS = {
    "heldout": ((0.989, 0.754), (0.985, 0.772), (0.639, 0.708), (0.597, 0.617)),  # cycling
    "heldout2": ((0.993, 0.892), (0.993, 0.909), (0.759, 0.812), (0.780, 0.787)),  # bees
    "heldout3": ((0.996, 0.915), (0.996, 0.908), (0.670, 0.854), (0.947, 0.828)),  # stars
    "heldout4": ((0.989, 0.878), (0.987, 0.873), (0.708, 0.792), (0.693, 0.833)),  # gardens
    "heldout5": ((0.990, 0.916), (0.986, 0.924), (0.825, 0.833), (0.811, 0.827)),  # theater
    "heldout6": ((0.997, 0.905), (0.998, 0.911), (0.573, 0.312), (0.596, 0.298)),  # chess
}


@pytest.mark.parametrize("folder", RETIRED, ids=lambda folder: folder.name)
def test_a_retired_set_holds_its_first_figures(folder: Path) -> None:
    field, other = heldout_field(SPLITS, folder), heldout_other_field(SPLITS, folder)
    measured = (field.cold["all"], field.mean(), other.cold["all"], other.mean())
    first = FIRST_RUNS[folder.name]
    for (auc, topic), (first_auc, first_topic) in zip(measured, first, strict=True):
        assert auc >= first_auc - 0.03 and topic >= first_topic - 0.03

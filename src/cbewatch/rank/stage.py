"""The ranking stage: read the store, (re)train when the decisions changed, rescore every
new item and write the scores back. The only part of ranking that touches the store; it
never decides an item.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..config import Settings
from ..store import Store
from .cold import ColdStart
from .learned import rank_with, train
from .model_file import LearnedModel, decisions_fingerprint, load_model, model_path, save_model
from .tuning import DEFAULT_TUNING, Tuning
from .values import Decision, RankInput


@dataclass(frozen=True)
class RankSummary:
    ranked: int
    decisions: int
    trained: bool  # the model was (re)built this run
    learned: bool  # a learned model took part
    seconds: float

    def line(self) -> str:
        how = "learned from" if self.learned else "cold start;"
        retrained = ", retrained" if self.trained else ""
        items = "item" if self.ranked == 1 else "items"
        return (
            f"ranked {self.ranked} new {items} ({how} {self.decisions} decisions{retrained}) "
            f"in {self.seconds:.2f}s"
        )


def rank_new_items(
    settings: Settings, store: Store, retrain: bool = False, tuning: Tuning = DEFAULT_TUNING
) -> RankSummary:
    """Rescore every `new` item; retrain first when the decisions changed (or asked).
    With no new item and no retrain asked, there is nothing to do: it returns at once
    (a model gone stale is retrained when there is something to rank)."""
    started = time.perf_counter()
    items = [_rank_input(row) for row in store.items.rank_inputs("new", tuning.text_chars)]
    decisions = [_decision(row) for row in store.items.decided(tuning.text_chars)]
    if not items and not retrain:
        return RankSummary(0, len(decisions), False, False, time.perf_counter() - started)
    cold = ColdStart(settings.topics, tuning, settings.data_dir)
    if not cold.knows_field:  # widened from the stored items, never from this batch alone
        stored = store.items.newest_rank_inputs(tuning.kin_items, tuning.text_chars)
        cold.widen([_rank_input(row) for row in stored])
    model, trained = current_model(model_path(settings), decisions, cold, retrain)
    rankings = rank_with(items, cold, model)
    store.items.save_rankings((r.id, r.score, r.suggested_topic, r.why) for r in rankings)
    return RankSummary(
        ranked=len(rankings),
        decisions=len(decisions),
        trained=trained,
        learned=model is not None and model.relevance is not None,
        seconds=time.perf_counter() - started,
    )


def current_model(
    path: Path, decisions: Sequence[Decision], cold: ColdStart, retrain: bool = False
) -> tuple[LearnedModel | None, bool]:
    """The stored model when it matches the decisions; otherwise a new one, saved."""
    fingerprint = decisions_fingerprint(decisions, cold)
    model = None if retrain else load_model(path, fingerprint)
    if model is not None or not decisions:
        return model, False
    model = train(decisions, cold)
    if model is not None:
        save_model(path, model)
    return model, True


def _rank_input(row: dict[str, Any]) -> RankInput:
    return RankInput(
        id=row["id"],
        title=row.get("title") or "",
        description=row.get("summary_text") or "",
        text=row.get("text") or "",
        source=row.get("source") or "",
    )


def _decision(row: dict[str, Any]) -> Decision:
    return Decision(_rank_input(row), row["status"] == "accepted", row.get("topic"))

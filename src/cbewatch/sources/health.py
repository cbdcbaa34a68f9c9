"""Source health as pure decisions: is a source due, and what state follows a poll.

No I/O here: old state and an outcome in, new state out, so every rule (backoff,
Retry-After, 410 retirement) is tested by tables of cases.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Literal

from ..model.types import SourceState

MAX_BACKOFF = timedelta(days=1)
MAX_RETRY_AFTER = timedelta(days=7)  # a server asking for more is probably wrong
JITTER = 0.2  # ±20 % so failing sources do not all retry in the same second

OutcomeKind = Literal["ok", "not_modified", "failed", "gone"]


@dataclass(frozen=True)
class Outcome:
    """What one poll attempt of a source came to, before it is stored."""

    kind: OutcomeKind
    error: str | None = None  # one plain sentence for failed/gone
    status: int | None = None  # HTTP status, when there was one
    retry_after: float | None = None  # seconds, from a 429/503
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None


def is_due(state: SourceState | None, now: datetime) -> bool:
    if state is None:
        return True
    if state.retired:
        return False
    return state.next_poll is None or state.next_poll <= now


def backoff(failures: int, every: timedelta, rng: random.Random) -> timedelta:
    """Delay before retrying after `failures` consecutive failures (1, 2, …)."""
    cap = max(MAX_BACKOFF, every)
    delay = every * (2 ** min(failures - 1, 16))
    delay *= 1 + rng.uniform(-JITTER, JITTER)
    return min(delay, cap)


def next_state(
    state: SourceState,
    outcome: Outcome,
    every: timedelta,
    now: datetime,
    rng: random.Random | None = None,
) -> SourceState:
    """The source's state after a poll with this outcome."""
    rng = rng or random.Random()
    polled = replace(state, last_polled=now, last_status=outcome.status)
    if outcome.kind in ("ok", "not_modified"):
        return replace(
            polled,
            etag=outcome.etag if outcome.kind == "ok" else outcome.etag or state.etag,
            last_modified=(
                outcome.last_modified
                if outcome.kind == "ok"
                else outcome.last_modified or state.last_modified
            ),
            body_hash=outcome.body_hash or state.body_hash,
            last_success=now,
            consecutive_failures=0,
            last_error=None,
            next_poll=now + every,
            retired_at=None,
        )
    failures = state.consecutive_failures + 1
    failed = replace(polled, consecutive_failures=failures, last_error=outcome.error)
    if outcome.kind == "gone":
        return replace(failed, retired_at=now, next_poll=None)
    if outcome.retry_after is not None:
        seconds = min(max(outcome.retry_after, 0.0), MAX_RETRY_AFTER.total_seconds())
        wait = timedelta(seconds=seconds)
        return replace(failed, next_poll=now + wait)
    return replace(failed, next_poll=now + backoff(failures, every, rng))


def health_label(state: SourceState) -> str:
    """One word for a source's health: ok, failing, retired or never polled."""
    if state.retired:
        return "retired"
    if state.last_polled is None:
        return "never polled"
    return "failing" if state.consecutive_failures else "ok"

"""Source health decisions, as tables of cases (no I/O)."""

import random
from datetime import UTC, datetime, timedelta

import pytest

from cbewatch.model.types import SourceState
from cbewatch.sources.health import MAX_BACKOFF, Outcome, backoff, is_due, next_state

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
EVERY = timedelta(hours=6)


def state(**kw: object) -> SourceState:
    return SourceState("Alder", "https://alder.example.org/feed", "feed", **kw)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("source", "due"),
    [
        (None, True),
        (state(), True),
        (state(next_poll=NOW - timedelta(seconds=1)), True),
        (state(next_poll=NOW), True),
        (state(next_poll=NOW + timedelta(minutes=1)), False),
        (state(retired_at=NOW - timedelta(days=1)), False),
    ],
)
def test_is_due(source: SourceState | None, due: bool) -> None:
    assert is_due(source, NOW) is due


def test_success_resets_failures_and_schedules_next_poll() -> None:
    before = state(consecutive_failures=3, last_error="HTTP 500.", etag='"old"')
    after = next_state(before, Outcome("ok", status=200, etag='"new"', body_hash="h"), EVERY, NOW)
    assert after.consecutive_failures == 0 and after.last_error is None
    assert after.last_success == NOW and after.next_poll == NOW + EVERY
    assert after.etag == '"new"' and after.body_hash == "h"


def test_not_modified_keeps_validators() -> None:
    before = state(etag='"v1"', last_modified="Mon, 02 Nov 2026 10:00:00 GMT", body_hash="h")
    after = next_state(before, Outcome("not_modified", status=304), EVERY, NOW)
    assert (after.etag, after.last_modified, after.body_hash) == (
        '"v1"',
        "Mon, 02 Nov 2026 10:00:00 GMT",
        "h",
    )
    assert after.last_success == NOW


@pytest.mark.parametrize(
    ("failures", "low", "high"),
    [
        (1, EVERY * 0.8, EVERY * 1.2),
        (2, EVERY * 1.6, EVERY * 2.4),
        (3, EVERY * 4 * 0.8, MAX_BACKOFF),
        (10, MAX_BACKOFF, MAX_BACKOFF),
    ],
)
def test_backoff_grows_with_jitter_and_is_capped(
    failures: int, low: timedelta, high: timedelta
) -> None:
    for seed in range(20):
        delay = backoff(failures, EVERY, random.Random(seed))
        assert low <= delay <= high


def test_backoff_jitter_spreads_sources() -> None:
    delays = {backoff(1, EVERY, random.Random(seed)) for seed in range(10)}
    assert len(delays) > 5


def test_failure_counts_and_backs_off() -> None:
    after = next_state(state(consecutive_failures=1), Outcome("failed", error="Boom."), EVERY, NOW)
    assert after.consecutive_failures == 2 and after.last_error == "Boom."
    assert NOW + EVERY * 1.6 <= after.next_poll <= NOW + EVERY * 2.4
    assert after.last_success is None


def test_retry_after_is_honoured() -> None:
    outcome = Outcome("failed", error="Slow down.", status=429, retry_after=120)
    after = next_state(state(), outcome, EVERY, NOW)
    assert after.next_poll == NOW + timedelta(seconds=120)


def test_absurd_retry_after_is_capped_at_a_week() -> None:
    outcome = Outcome("failed", error="Later.", status=503, retry_after=10**9)
    assert next_state(state(), outcome, EVERY, NOW).next_poll == NOW + timedelta(days=7)


def test_gone_retires_the_source() -> None:
    after = next_state(state(), Outcome("gone", error="Gone.", status=410), EVERY, NOW)
    assert after.retired and after.retired_at == NOW and after.next_poll is None
    assert not is_due(after, NOW + timedelta(days=30))


def test_success_after_retirement_brings_it_back() -> None:
    after = next_state(state(retired_at=NOW), Outcome("ok", status=200), EVERY, NOW)
    assert not after.retired

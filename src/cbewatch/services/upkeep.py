"""Keeping the house: backups (one on demand, nightly ones rotated), the health check,
the scheduler's job log, and reranking the queue after the curators' decisions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..config import Settings
from ..model.times import utc_now
from ..rank import RankSummary, rank_new_items
from ..store import Store

BACKUPS_KEPT = 7
JOB_RUNS_KEPT = timedelta(days=30)


def backup(store: Store, target: Path) -> None:
    """A consistent copy of the database in `target`, safe while others write."""
    store.jobs.backup_to(target)


def nightly_backup(store: Store, folder: Path, now: datetime | None = None) -> str:
    """A dated backup in `folder`, keeping the newest BACKUPS_KEPT; says what it did."""
    target = folder / backup_name((now or utc_now()).isoformat()[:19])
    store.jobs.backup_to(target)
    deleted = rotate_backups(folder)
    return f"wrote {target.name}, deleted {len(deleted)} old"


def backup_name(now_text: str) -> str:
    return f"cbewatch-{now_text.replace(':', '').replace('-', '')}.db"


def rotate_backups(folder: Path, keep: int = BACKUPS_KEPT) -> list[Path]:
    """Delete all but the newest `keep` nightly backups; returns the ones deleted."""
    backups = sorted(folder.glob("cbewatch-*.db"))
    stale = backups[:-keep] if keep else backups
    for path in stale:
        path.unlink()
    return stale


def health(store: Store, scheduler: str) -> tuple[dict[str, Any], int]:
    """What /healthz answers: database, scheduler, last poll, failing sources, and the
    verdict with its HTTP status (503 when something is down)."""
    data: dict[str, Any] = {}
    try:
        problem = store.jobs.file_problem()
        if problem is None:
            data = store.sources.health()
        database = f"error: {problem}" if problem else "ok"
    except Exception as exc:  # the point of a health check: report, never raise
        database = f"error: {type(exc).__name__}"
    return _health(scheduler, database, data)


def health_unopened(scheduler: str, exc: Exception) -> tuple[dict[str, Any], int]:
    """What /healthz answers when no connection to the database could be opened."""
    return _health(scheduler, f"error: {type(exc).__name__}", {})


def _health(scheduler: str, database: str, data: dict[str, Any]) -> tuple[dict[str, Any], int]:
    body = {"scheduler": scheduler, **data, "database": database}
    body["status"], code = health_verdict(database, scheduler)
    return body, code


def health_verdict(database: str, scheduler: str) -> tuple[str, int]:
    """("ok", 200) when the database answers and the scheduler runs (or was turned off
    on purpose), else ("unavailable", 503)."""
    healthy = database == "ok" and scheduler in ("running", "off")
    return ("ok", 200) if healthy else ("unavailable", 503)


def run_job(store: Store, name: str, work: Callable[[Store], str]) -> str:
    """Run one scheduled job with its run recorded (started, then ok or failed with the
    error); returns the job's one-line detail, or raises what it raised."""
    run_id = store.jobs.start(name)
    try:
        detail = work(store)
    except Exception as exc:
        store.jobs.finish(run_id, "failed", f"{type(exc).__name__}: {exc}")
        raise
    store.jobs.finish(run_id, "ok", detail)
    return detail


def prune_job_runs(store: Store, now: datetime | None = None) -> str:
    forgotten = store.jobs.prune((now or utc_now()) - JOB_RUNS_KEPT)
    return f"forgot {forgotten} old job runs"


def decision_labels(store: Store) -> list[tuple[int, str, str | None]]:
    """What the ranking model learns from, cheap to compare: a rerank is due when it
    changed."""
    return store.items.decision_labels()


def rerank(store: Store, settings: Settings, retrain: bool = False) -> RankSummary:
    """Rescore the new items (retraining first when the decisions changed, or asked)."""
    return rank_new_items(settings, store, retrain=retrain)

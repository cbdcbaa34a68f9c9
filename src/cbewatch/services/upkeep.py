"""Keeping the house: backups (one on demand, nightly ones rotated), the health check,
the scheduler's job log, and reranking the queue after the curators' decisions."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from ..config import Settings
from ..errors import CbewatchError
from ..locks import serving_pid
from ..model.times import utc_now
from ..rank import RankSummary, rank_new_items
from ..store import SCHEMA_VERSION, Store
from ..store.jobs import backup_schema, copy_database


class BackupError(CbewatchError):
    """A backup or restore that would do harm: nothing to copy, a file in the way."""


BACKUPS_KEPT = 7
JOB_RUNS_KEPT = timedelta(days=30)
LARGE_FETCH = 1000  # new items that make a fetch refresh the planner's statistics


def backup(store: Store, target: Path) -> None:
    """A consistent copy of the database in `target`, safe while others write."""
    store.jobs.backup_to(target)


def backup_to_file(settings: Settings, target: Path, force: bool = False) -> None:
    """`cbewatch backup`: a copy of the database in `target`; refused when there is no
    database yet (nothing to back up) or when `target` exists (unless `force`)."""
    if not settings.db_path.exists():
        raise BackupError(f"there is no database at {settings.db_path} yet: nothing to back up")
    if target.exists() and not force:
        raise BackupError(f"{target} exists; give --force to overwrite it")
    with Store(settings.db_path) as store:
        store.jobs.backup_to(target)


def restore_from_file(settings: Settings, backup_file: Path, force: bool = False) -> Path | None:
    """`cbewatch restore`: the backup in place of the database, upgraded if older. The
    database it replaces is kept beside it (returned); refused while `serve` runs, when
    the file is no cbewatch database, and over a database with items unless `force`."""
    pid = serving_pid(settings.data_dir)
    if pid is not None:
        raise BackupError(
            f"cbewatch serve (pid {pid}) is running on {settings.data_dir}: stop it first"
        )
    version = backup_schema(backup_file)
    if version > SCHEMA_VERSION:
        raise BackupError(f"{backup_file} was written by a newer cbewatch (schema {version})")
    target = settings.db_path
    kept = None
    if target.exists():
        with Store(target) as store:
            count = store.items.count()
        if count and not force:
            raise BackupError(
                f"{target} holds {count} items; give --force to replace it (it is kept)"
            )
        stamp = utc_now().strftime("%Y%m%dT%H%M%S")
        kept = target.with_name(f"{target.name}.before-restore-{stamp}")
        copy_database(target, kept)
    target.parent.mkdir(parents=True, exist_ok=True)
    copy_database(backup_file, target)
    Store(target).close()  # upgraded to this cbewatch's schema now, not by the next command
    return kept


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


def optimize(store: Store) -> str:
    """Fresh statistics for the query planner (store.jobs.optimize): the nightly job,
    and after `subscribers import` and `issue import`."""
    store.jobs.optimize()
    return "query planner statistics refreshed"


def optimize_after_fetch(store: Store, new_items: int) -> bool:
    """After a fetch that stored `new_items`: refresh the query planner's statistics when
    the database has none yet (its first fetch), when the fetch stored many items
    (LARGE_FETCH), or when the items have doubled since they were counted, so the
    queue's plans follow the data as it grows, not from the next night. Returns whether
    it ran."""
    if new_items <= 0:
        return False
    counted = store.jobs.analyzed_items()
    grown = counted is None or store.items.count() >= 2 * counted
    if not grown and new_items < LARGE_FETCH:
        return False
    store.jobs.optimize()
    return True


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

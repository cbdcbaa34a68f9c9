"""Sources and polls: the config's sources mirrored in the store, each one's health as
`cbewatch sources` and the sources page show it, and a fetch of the due (or named, or
all) sources."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

from ..config import Settings, Source
from ..config_edit import add_source
from ..http import HttpClient
from ..model.times import from_iso, to_iso, utc_now
from ..model.types import SourceState
from ..pipeline import NO_HOOKS, FetchHooks, FetchSummary, SourceReport, choose_sources, run_fetch
from ..sources.discover import Proposal, discover
from ..sources.health import health_label
from ..store import Store
from .upkeep import optimize_after_fetch

__all__ = [
    "FetchHooks",
    "FetchSummary",
    "Overview",
    "SourceReport",
    "due_sources",
    "fetch",
    "overview",
    "poll_names",
    "source_rows",
    "sync_sources",
]


def sync_sources(store: Store, settings: Settings) -> bool:
    """Mirror the config's sources in the store (when a command or `serve` starts, and
    before every fetch); True when something changed. Writes nothing when nothing did."""
    return store.sources.sync((s.name, s.url, s.kind) for s in settings.sources)


def source_rows(store: Store, settings: Settings) -> list[dict[str, Any]]:
    """Each configured source with its health and how many items it has yielded: what
    `cbewatch sources` prints and the sources page shows. Read-only: a source the store
    has not seen yet shows as never polled."""
    states = store.sources.states()
    counts = store.sources.item_counts()
    rows = []
    for source in settings.sources:
        state = states.get(source.name)
        if state is None or (state.url, state.kind) != (source.url, source.kind):
            state = SourceState(source.name, source.url, source.kind)  # as sync will make it
        rows.append(
            {
                "name": source.name,
                "url": source.url,
                "kind": source.kind,
                "health": health_label(state),
                "last_polled": to_iso(state.last_polled),
                "last_success": to_iso(state.last_success),
                "consecutive_failures": state.consecutive_failures,
                "last_status": state.last_status,
                "last_error": state.last_error,
                "next_poll": to_iso(state.next_poll),
                "retired": state.retired,
                "items": counts.get(source.name, 0),
            }
        )
    return rows


@dataclass(frozen=True)
class Overview:
    """The sources page: every source's row, and the scheduler's recent job runs."""

    rows: list[dict[str, Any]]
    runs: list[dict[str, Any]]
    yields: list[SourceYield]


def overview(store: Store, settings: Settings) -> Overview:
    return Overview(
        source_rows(store, settings), store.jobs.recent(), source_yield(store, settings)
    )


YIELD_WINDOW = timedelta(days=183)  # the yield looks at the last six months
SILENT_AFTER = timedelta(days=60)
FAILING_FOR = timedelta(days=7)
WEEKS = 26


@dataclass(frozen=True)
class SourceYield:
    """What a source brought over the last six months, and what to look at."""

    name: str
    seen: int
    accepted: int
    rejected: int
    duplicates: int
    last_new: str | None  # its newest item ever
    flags: tuple[str, ...]  # "no accepted item", "silent", "failing"
    new_per_week: tuple[int, ...]  # oldest week first, this week last
    accepted_per_week: tuple[int, ...]

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def source_yield(
    store: Store, settings: Settings, now: datetime | None = None
) -> list[SourceYield]:
    """Each configured source's yield (`cbewatch sources --yield`, the sources page):
    flagged when six months brought no accepted item, when nothing new came for 60
    days, or when its polls have failed for a week. Read-only."""
    now = now or utc_now()
    counts = store.sources.yield_counts(to_iso(now - YIELD_WINDOW) or "")
    weekly = store.sources.weekly(to_iso(now) or "", WEEKS)
    states = store.sources.states()
    found = []
    for source in settings.sources:
        got = counts.get(source.name, {})
        seen, accepted = got.get("seen") or 0, got.get("accepted") or 0
        last_new = got.get("last_new")
        new = [0] * WEEKS
        taken = [0] * WEEKS
        for ago, n, a in weekly.get(source.name, []):
            if 0 <= ago < WEEKS:
                new[WEEKS - 1 - ago], taken[WEEKS - 1 - ago] = n, a or 0
        flags = []
        if seen and not accepted:
            flags.append("no accepted item")
        newest = from_iso(last_new)
        if newest is not None and newest < now - SILENT_AFTER:
            flags.append("silent")
        state = states.get(source.name)
        if state is not None and _failing_for_a_week(state, now):
            flags.append("failing")
        found.append(
            SourceYield(
                source.name,
                seen,
                accepted,
                got.get("rejected") or 0,
                got.get("duplicates") or 0,
                last_new,
                tuple(flags),
                tuple(new),
                tuple(taken),
            )
        )
    return found


def _failing_for_a_week(state: SourceState, now: datetime) -> bool:
    """Failing now, with no success in the last week (or none ever)."""
    if not state.consecutive_failures or state.last_polled is None:
        return False
    return state.last_success is None or state.last_success < now - FAILING_FOR


async def propose_source(settings: Settings, url: str) -> Proposal | None:
    """How to follow the site at `url` (`cbewatch discover`, the sources page), through
    the one HTTP client and its guard; None when it offers nothing to follow."""
    async with HttpClient(settings.network, settings.user_agent) as client:
        return await discover(client, url)


def add_proposal(settings: Settings, proposal: Proposal) -> Settings:
    """The proposal's entry appended to the config file, which is checked (and put
    back when the check fails: ConfigError)."""
    return add_source(settings.path, proposal.yaml_entry(), proposal.url)


def due_sources(store: Store, settings: Settings) -> list[Source]:
    """The sources a poll would poll now."""
    return choose_sources(settings, store)


def poll_names(settings: Settings, name: str) -> list[str]:
    """What "poll now" polls: the named source when the config has it, else every due
    one (an empty list)."""
    return [name] if settings.source(name) else []


def fetch(
    store: Store,
    settings: Settings,
    names: Iterable[str] = (),
    poll_all: bool = False,
    hooks: FetchHooks = NO_HOOKS,
) -> FetchSummary:
    """Poll the due (or named, or all active) sources, read new pages, fold copies and
    rank what is new (`cbewatch fetch`, the daemon's poll)."""
    sync_sources(store, settings)
    summary = run_fetch(settings, store, names, poll_all, hooks)
    optimize_after_fetch(store, summary.new_items)
    return summary

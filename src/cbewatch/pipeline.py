"""The fetch pipeline: poll the chosen sources concurrently and store what they found,
then read every new item's page (downloads beside extraction), fold copies into one
story, and rank what is new.

Each source's results commit in their own transaction as soon as its poll ends, pages in
batches as they are read, so a crash loses only the work in flight. The fetch service
(`services.sources.fetch`, which syncs the config's sources first) calls `run_fetch`; it
never prints (a callback reports progress).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace

from .config import Settings, Source
from .dedup import Parts, dedup_new
from .extract import PageJob, PageResult, read_pages, retry_delay
from .extract.blocks import sketch_parts
from .extract.boilerplate import FORGET_AFTER, MIN_PAGES, SitePage, resettled, settle, wanted
from .http import HttpClient
from .locks import page_reading
from .model.times import to_iso, utc_now
from .model.types import SourceState
from .rank import RankSummary, rank_new_items
from .sources.health import is_due, next_state
from .sources.poll import PollResult, poll_source, pool_reader
from .store import Store
from .workers import WorkerPool


@dataclass
class SourceReport:
    name: str
    outcome: str  # ok | not_modified | failed | gone
    new_items: int = 0
    error: str | None = None


@dataclass
class FetchSummary:
    reports: list[SourceReport] = field(default_factory=list)
    pages: dict[str, int] = field(default_factory=dict)  # extracted_from → how many
    pages_left: int = 0  # pages due but left for a later run (time budget, slow sites)
    pages_busy: bool = False  # another cbewatch was reading pages: this run read none
    duplicates: int = 0
    ranking: RankSummary | None = None

    @property
    def polled(self) -> int:
        return len(self.reports)

    @property
    def new_items(self) -> int:
        return sum(r.new_items for r in self.reports)

    def count(self, *outcomes: str) -> int:
        return sum(1 for r in self.reports if r.outcome in outcomes)

    def line(self) -> str:
        """The one summary line a command prints."""
        sources = "source" if self.polled == 1 else "sources"
        items = "item" if self.new_items == 1 else "items"
        text = (
            f"polled {self.polled} {sources}: {self.new_items} new {items}, "
            f"{self.count('not_modified')} not modified, {self.count('failed', 'gone')} failed"
        )
        if self.pages:
            read = self.pages.get("page", 0)
            text += f"; read {read} of {sum(self.pages.values())} pages"
            text += f", {self.duplicates} duplicate{'' if self.duplicates == 1 else 's'}"
        if self.pages_busy:
            text += "; pages left to the other cbewatch reading them"
        elif self.pages_left:
            pages = "page" if self.pages_left == 1 else "pages"
            text += f"; {self.pages_left} {pages} left for the next run"
        if self.count("failed", "gone"):
            text += " (see cbewatch sources)"
        return text


@dataclass(frozen=True)
class FetchHooks:
    """What the caller of a fetch hears meanwhile, and how it can stop it."""

    on_start: Callable[[int], None] | None = None  # how many sources will be polled
    on_source_done: Callable[[SourceReport], None] | None = None
    # Set (the daemon does on SIGTERM): the work still in flight is abandoned at once.
    stop: threading.Event | None = None

    def stopped(self) -> bool:
        return self.stop is not None and self.stop.is_set()


NO_HOOKS = FetchHooks()


def choose_sources(
    settings: Settings, store: Store, names: Iterable[str] = (), poll_all: bool = False
) -> list[Source]:
    """Named sources (even retired ones: naming one is asking to try it again), all
    active sources, or the ones that are due."""
    names = list(names)
    if names:
        return [s for s in settings.sources if s.name in names]
    states = store.sources.states()
    now = utc_now()
    return [
        source
        for source in settings.sources
        if (poll_all and not _retired(states.get(source.name)))
        or (not poll_all and is_due(states.get(source.name), now))
    ]


def _retired(state: SourceState | None) -> bool:
    return state is not None and state.retired


def run_fetch(
    settings: Settings,
    store: Store,
    names: Iterable[str] = (),
    poll_all: bool = False,
    hooks: FetchHooks = NO_HOOKS,
) -> FetchSummary:
    """Poll the chosen sources and store their entries, then read every new item's page,
    fold copies of one story together and rank the new items; returns what happened.

    The config's sources must be in the store (`services.sources.sync_sources`).
    A stop (`hooks.stop`) abandons the work still in flight at once: every source
    already finished is stored, none is stored in part.
    """
    sources = choose_sources(settings, store, names, poll_all)
    if hooks.on_start:
        hooks.on_start(len(sources))
    summary = asyncio.run(_poll_all(settings, store, sources, hooks, names=tuple(names)))
    if summary.new_items and not hooks.stopped():
        summary.ranking = rank_new_items(settings, store)
    return summary


def run_poll(
    settings: Settings, store: Store, names: Iterable[str] = (), poll_all: bool = False
) -> FetchSummary:
    """The polling stage alone: the chosen sources' entries stored, no page read, no
    dedup or ranking (bench/poll.py measures it). The sources must be synced."""
    sources = choose_sources(settings, store, names, poll_all)
    return asyncio.run(_poll_all(settings, store, sources, NO_HOOKS, read_pages=False))


# What the worker pool's fork server imports once, before it forks a worker: the sources
# stage's parsers and the extraction stage. trafilatura and pypdf are imported there,
# not by the main process: a command that never extracts does not pay for them.
WORKER_PRELOAD = (
    "cbewatch.sources.poll",
    "cbewatch.extract",
    "trafilatura",
    "trafilatura.htmlprocessing",
    "pypdf",
)


async def _poll_all(
    settings: Settings,
    store: Store,
    sources: list[Source],
    hooks: FetchHooks,
    read_pages: bool = True,
    names: tuple[str, ...] = (),
) -> FetchSummary:
    summary = FetchSummary()
    states = store.sources.states()
    allow = settings.network.allow_hosts
    by_name = {s.name: s for s in sources}
    sketched: dict[int, tuple[str, Parts]] = {}  # pages read: their sketches' parts, for dedup
    with WorkerPool(preload=WORKER_PRELOAD) as pool:
        read = pool_reader(pool)
        async with HttpClient(settings.network, settings.user_agent) as client:
            tasks = [
                asyncio.ensure_future(poll_source(client, s, states[s.name], allow, read))
                for s in sources
            ]
            watcher = asyncio.ensure_future(_cancel_when_set(hooks.stop, tasks))
            try:
                for finished in asyncio.as_completed(list(tasks)):
                    try:
                        result = await finished
                    except asyncio.CancelledError:
                        return summary  # stopped: the rest are cancelled too
                    source = by_name[result.name]
                    report = _store_result(store, source, result)
                    summary.reports.append(report)
                    if hooks.on_source_done:
                        hooks.on_source_done(report)
                if not read_pages:
                    return summary
                # Items whose pages are still to read include earlier runs' retries, so
                # this runs even when no source was due.
                reading = _read_new_pages(settings, store, client, pool, summary, names, sketched)
                tasks.append(asyncio.ensure_future(reading))
                try:
                    await tasks[-1]
                except asyncio.CancelledError:
                    return summary
            finally:
                watcher.cancel()
                if hooks.stopped():
                    pool.stop()  # a worker busy extracting a page is not waited for
    summary.duplicates = dedup_new(store, sketched).duplicates
    return summary


async def _cancel_when_set(stop: threading.Event | None, tasks: list[asyncio.Future]) -> None:
    if stop is None:
        return
    while not stop.is_set():
        await asyncio.sleep(0.1)
    for task in tasks:
        task.cancel()


BATCH = 100  # page results per transaction


async def _read_new_pages(
    settings: Settings,
    store: Store,
    client: HttpClient,
    pool: WorkerPool,
    summary: FetchSummary,
    names: tuple[str, ...] = (),
    sketched: dict[int, tuple[str, Parts]] | None = None,
) -> None:
    """Fetch and extract the items not read yet (of the named sources only, when a fetch
    names some), within the run's time budget; store results in batches. One cbewatch
    reads pages at a time: a fetch beside `serve`'s poll leaves them to it. Each page's
    text as stored goes into `sketched` with its blocks' shares of its sketch, for dedup."""
    sketched = {} if sketched is None else sketched

    def keep_sketches(results: Iterable[PageResult]) -> None:
        for r in results:
            if r.extracted_from == "page" and r.article is not None:
                parts = sketch_parts(r.article.blocks)
                if parts is not None:
                    sketched[r.id] = (r.text, parts)

    with page_reading(settings.data_dir) as mine:
        if not mine:
            summary.pages_busy = True
            return
        rows = store.items.pending_pages(utc_now(), names)
        jobs = [
            PageJob(row["id"], row["url"], row["title"] or "", row["summary"] or "",
                    row["summary_text"] or "", row["attempts"], row["source"])
            for row in rows
        ]  # fmt: skip
        by_id = {job.item_id: job for job in jobs}
        batch: list[PageResult] = []
        # Pages read this run, as stored: one stored before its site's chrome was known is
        # settled again at the end (a big first run spans several batches).
        flushed: list[tuple[SitePage, frozenset[int]]] = []

        def flush() -> None:
            pages = [SitePage(by_id[r.id].source, r, by_id[r.id].summary_text) for r in batch]
            results, chromes, seen = settle(pages, store.boilerplate.counts(wanted(pages)))
            rows = [r.row() for r in results]
            store.items.record_extractions(rows, utc_now(), seen, MIN_PAGES, FORGET_AFTER)
            keep_sketches(results)
            flushed.extend((p, c) for p, c in zip(pages, chromes, strict=True) if p.keys)
            batch.clear()

        def deliver(result: PageResult) -> None:
            pages = summary.pages
            pages[result.extracted_from] = pages.get(result.extracted_from, 0) + 1
            if not result.final:  # it may pass: try again, later
                wait = retry_delay(by_id[result.id].attempts + 1)
                result = replace(result, read_after=to_iso(utc_now() + wait))
            batch.append(result)
            if len(batch) >= BATCH:
                flush()

        lanes = settings.network.max_connections + 2 * pool.workers
        try:
            network = settings.network
            summary.pages_left = await read_pages(
                jobs, client, pool, deliver, lanes, network.run_budget, network.per_host
            )
        finally:
            if batch:
                flush()
        if flushed:
            pages = [page for page, _ in flushed]
            again = resettled(flushed, store.boilerplate.counts(wanted(pages)))
            store.items.record_texts([(r.id, r.text, r.html, r.summary_text) for r in again])
            keep_sketches(again)


def _store_result(store: Store, source: Source, result: PollResult) -> SourceReport:
    now = utc_now()

    def after_poll(state: SourceState) -> SourceState:
        new_state = next_state(state, result.outcome, source.every, now)
        if result.problem and result.outcome.kind == "ok":
            # Read in part: the poll succeeded, but health keeps the reason it was partial.
            new_state = replace(new_state, last_error=result.problem)
        return new_state

    new_items = store.sources.record_poll(source.name, result.entries, now, after_poll)
    return SourceReport(source.name, result.outcome.kind, new_items, result.outcome.error)

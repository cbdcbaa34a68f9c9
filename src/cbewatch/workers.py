"""CPU-bound work in a pool of worker processes, one per core: reading feeds and pages
and extracting articles runs beside the downloads instead of between them, and a
parser that crashes on a hostile body takes down a worker, never the run.

Workers come from a fork server started once per process with the parsers preloaded,
so a pool costs milliseconds per run and never forks a threaded daemon directly.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

from .config import Source
from .errors import ParseError
from .http import Fetched
from .sources.model import ParsedPage
from .sources.poll import read_body

T = TypeVar("T")

_CONTEXT = multiprocessing.get_context("forkserver")
# trafilatura and pypdf are imported here, once, not by the main process: a command
# that never extracts does not pay for them.
_CONTEXT.set_forkserver_preload(
    [
        "cbewatch.sources.poll",
        "cbewatch.extract",
        "trafilatura",
        "trafilatura.htmlprocessing",
        "pypdf",
    ]
)


class WorkerCrashed(Exception):
    """A task killed its worker process twice, in two fresh pools."""


class WorkerTimeout(WorkerCrashed):
    """A task ran past its time limit; its worker was killed (the others' tasks are
    tried again in a fresh pool)."""


class WorkerPool:
    """A process pool for one run; use as a context manager."""

    def __init__(self, workers: int | None = None) -> None:
        self.workers = workers or os.cpu_count() or 1
        self._executor = self._new_executor()

    def _new_executor(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(max_workers=self.workers, mp_context=_CONTEXT)

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        self._executor.shutdown(wait=True, cancel_futures=True)

    async def run(self, task: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """Run `task(*args)` in a worker; a crashed pool is replaced and the task tried
        once more, so one poisonous input fails alone. Past `timeout` seconds the
        worker is killed: a parser stuck on a hostile input must not stall the run."""
        loop = asyncio.get_running_loop()
        name = getattr(task, "__name__", "task")
        for attempt in range(2):
            executor = self._executor
            try:
                return await asyncio.wait_for(loop.run_in_executor(executor, task, *args), timeout)
            except TimeoutError:
                self._replace(executor, kill=True)
                raise WorkerTimeout(name) from None
            except BrokenProcessPool:
                self._replace(executor)
                if attempt:
                    break
        raise WorkerCrashed(name)

    def _replace(self, executor: ProcessPoolExecutor, kill: bool = False) -> None:
        if self._executor is not executor:  # the first task to notice replaces it
            return
        if kill:  # ProcessPoolExecutor has no public way to stop a running task before 3.14
            for process in list(getattr(executor, "_processes", {}).values()):
                process.kill()
        executor.shutdown(wait=False, cancel_futures=True)
        self._executor = self._new_executor()

    async def read(self, source: Source, fetched: Fetched) -> ParsedPage:
        """`read_body` in a worker: a sources.poll.Reader."""
        try:
            return await self.run(read_body, source, fetched)
        except WorkerCrashed:
            raise ParseError(fetched.url, "reading it crashed the parser") from None

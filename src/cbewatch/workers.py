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
import threading
import time
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

TASK_DEADLINE = 30.0  # seconds; reading one body never takes this long unless attacked
OWNER_CHECK = 1.0  # seconds between a worker's checks that its owner still lives


class WorkerCrashed(Exception):
    """A task killed its worker process twice, in two fresh pools."""


class WorkerTimeout(WorkerCrashed):
    """A task ran past its time limit; its worker was killed (the others' tasks are
    tried again in a fresh pool)."""


class WorkerPool:
    """A process pool for one run; use as a context manager. Workers start on first use."""

    def __init__(self, workers: int | None = None, deadline: float = TASK_DEADLINE) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.deadline = deadline
        self._executor: ProcessPoolExecutor | None = None

    def __enter__(self) -> WorkerPool:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)

    def stop(self) -> None:
        """Kill the workers now, busy or not, without waiting: a poll stopping on SIGTERM
        must not wait out a long extraction. (Leaving the `with` block instead waits for
        running tasks to finish.)"""
        if self._executor is not None:
            self._replace(self._executor, kill=True)

    async def run(self, task: Callable[..., T], *args: Any, timeout: float | None = None) -> T:
        """Run `task(*args)` in a worker. A crashed pool is replaced and the task tried
        once more, so one poisonous input fails alone. Past `timeout` seconds (default:
        the pool's deadline) the worker is killed: a parser stuck on a hostile input must
        not stall the run; tasks that shared that pool are retried in a fresh one."""
        loop = asyncio.get_running_loop()
        limit = timeout or self.deadline
        for attempt in range(2):
            executor = self._current()
            try:
                future = loop.run_in_executor(executor, task, *args)
                return await asyncio.wait_for(future, limit)
            except TimeoutError:
                self._replace(executor, kill=True)
                raise WorkerTimeout(f"{_name(task)} ran past {limit:g} s") from None
            except BrokenProcessPool:
                self._replace(executor)
                if attempt:
                    break
        raise WorkerCrashed(_name(task))

    async def read(self, source: Source, fetched: Fetched) -> ParsedPage:
        """`read_body` in a worker: a sources.poll.Reader."""
        try:
            return await self.run(read_body, source, fetched)
        except WorkerTimeout:
            reason = f"reading it took longer than {self.deadline:g} s"
            raise ParseError(fetched.url, reason) from None
        except WorkerCrashed:
            raise ParseError(fetched.url, "reading it crashed the parser") from None

    def _current(self) -> ProcessPoolExecutor:
        if self._executor is None:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers,
                mp_context=_CONTEXT,
                initializer=_exit_with,
                initargs=(os.getpid(),),
            )
        return self._executor

    def _replace(self, executor: ProcessPoolExecutor, kill: bool = False) -> None:
        if self._executor is not executor:
            return  # another task already replaced it
        if kill:  # ProcessPoolExecutor has no public way to stop a running task before 3.14
            for process in list(getattr(executor, "_processes", {}).values()):
                process.kill()
        executor.shutdown(wait=False, cancel_futures=True)
        self._executor = None


def _exit_with(owner: int) -> None:
    """In a worker: exit once the process that owns the pool is gone. A worker killed
    with its owner (kill -9, the OOM killer) would otherwise wait for tasks for ever: it
    holds its own task queue's write end, so it never sees the end of it, and it keeps
    the fork server alive too."""

    def watch() -> None:
        while True:
            time.sleep(OWNER_CHECK)
            try:
                os.kill(owner, 0)
            except ProcessLookupError:
                os._exit(0)  # no cleanup to do: the owner took the work with it
            except PermissionError:  # the pid was reused by another user's process
                os._exit(0)

    threading.Thread(target=watch, name="exit-with-owner", daemon=True).start()


def _name(task: Callable[..., Any]) -> str:
    return getattr(task, "__name__", "task")

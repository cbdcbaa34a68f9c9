"""CPU-bound work in a pool of worker processes, one per core: the functions a caller
hands over run beside its downloads instead of between them, and a task that crashes
on a hostile input takes down a worker, never the run. The pool names no stage.

Workers come from a fork server started once per process with the modules the caller
names preloaded, so a pool costs milliseconds per run and never forks a threaded daemon
directly.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import time
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any, TypeVar

T = TypeVar("T")

_CONTEXT = multiprocessing.get_context("forkserver")
_preload_set = False  # the fork server's preload list is set once per process
_program_preload: list[str] = []  # what the running program asks for (`preload_for_program`)

TASK_DEADLINE = 30.0  # seconds; parsing one input never takes this long unless attacked
OWNER_CHECK = 1.0  # seconds between a worker's checks that its owner still lives


class WorkerCrashed(Exception):
    """A task killed its worker process twice, in two fresh pools."""


class WorkerTimeout(WorkerCrashed):
    """A task ran past its time limit; its worker was killed (the others' tasks are
    tried again in a fresh pool)."""


class WorkerPool:
    """A process pool for one run; use as a context manager. Workers start on first use.

    `preload` names the modules the fork server imports once, before it forks any
    worker, so that no task pays for them. The fork server starts once per process, so
    the first pool to start its workers decides: a later pool's `preload` is ignored.
    """

    def __init__(
        self,
        workers: int | None = None,
        deadline: float = TASK_DEADLINE,
        preload: Iterable[str] = (),
    ) -> None:
        self.workers = workers or os.cpu_count() or 1
        self.deadline = deadline
        self.preload = tuple(preload)
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

    def _current(self) -> ProcessPoolExecutor:
        if self._executor is None:
            _set_preload(self.preload)
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


def preload_for_program(*modules: str) -> None:
    """Have the fork server also preload `modules`: what the program's main module
    imports. Every new worker runs the main module again (multiprocessing prepares a
    child so; the fork server's own "__main__" preload does nothing on Python 3.11), so
    a program started as a script (a console script, a benchmark) should name here what
    its main module imports; then that second run costs nothing. Call it before the
    first pool starts."""
    _program_preload.extend(m for m in modules if m not in _program_preload)


def _set_preload(modules: tuple[str, ...]) -> None:
    """Name the fork server's preloaded modules, once per process, before it first starts
    (a fork server that died restarts with the same list)."""
    global _preload_set
    if not _preload_set:
        _CONTEXT.set_forkserver_preload([*modules, *_program_preload])
        _preload_set = True


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

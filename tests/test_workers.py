"""The worker pool: real processes; a crashing task fails alone, errors travel back."""

import asyncio
import os

import pytest

from cbewatch.config import Source
from cbewatch.errors import HTTPStatusError, ParseError
from cbewatch.http import Fetched
from cbewatch.workers import WorkerCrashed, WorkerPool, WorkerTimeout


def test_tasks_run_in_other_processes() -> None:
    async def go() -> list[int]:
        with WorkerPool(workers=2) as pool:
            return await asyncio.gather(*(pool.run(os.getpid) for _ in range(4)))

    pids = asyncio.run(go())
    assert os.getpid() not in pids


def test_a_task_that_kills_its_worker_fails_alone() -> None:
    async def go() -> tuple[BaseException | None, int]:
        with WorkerPool(workers=2) as pool:
            crashed = None
            try:
                await pool.run(os._exit, 3)
            except WorkerCrashed as exc:
                crashed = exc
            return crashed, await pool.run(abs, -7)  # the pool was replaced and still works

    crashed, value = asyncio.run(go())
    assert isinstance(crashed, WorkerCrashed) and value == 7


def test_parse_errors_come_back_whole() -> None:
    source = Source(name="Alder", url="https://alder.example.org/feed")
    fetched = Fetched("https://alder.example.org/feed", 200, {}, b"<html>not a feed</html>")

    async def go() -> None:
        with WorkerPool(workers=1) as pool:
            await pool.read(source, fetched)

    with pytest.raises(ParseError) as info:
        asyncio.run(go())
    assert info.value.url == "https://alder.example.org/feed"
    assert info.value.reason == "not an RSS, Atom or JSON feed"


def test_errors_survive_pickling() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(HTTPStatusError("https://a.example/", 429, 30.0)))
    assert (error.url, error.status, error.retry_after) == ("https://a.example/", 429, 30.0)


def test_a_task_past_the_deadline_is_killed_and_the_pool_goes_on() -> None:
    import time

    async def go() -> tuple[bool, int, float]:
        with WorkerPool(workers=2, deadline=1.0) as pool:
            start = time.monotonic()
            slow = asyncio.ensure_future(pool.run(time.sleep, 60))
            fast = await pool.run(abs, -5)
            try:
                await slow
            except WorkerTimeout:
                timed_out = True
            else:
                timed_out = False
            after = await pool.run(abs, -9)  # a fresh pool took over
            return timed_out, fast + after, time.monotonic() - start

    timed_out, total, elapsed = asyncio.run(go())
    assert timed_out and total == 14
    assert elapsed < 30  # the 60 s sleep was cut, not waited for

"""The worker pool: real processes; a crashing task fails alone, errors travel back."""

import asyncio
import os
import subprocess
import sys
import textwrap
import time

import pytest

from cbewatch.config import Source
from cbewatch.errors import HTTPStatusError, ParseError
from cbewatch.http import Fetched
from cbewatch.sources.poll import pool_reader
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
            await pool_reader(pool)(source, fetched)

    with pytest.raises(ParseError) as info:
        asyncio.run(go())
    assert info.value.url == "https://alder.example.org/feed"
    assert info.value.reason == "not an RSS, Atom or JSON feed"


def test_the_first_pool_to_start_names_what_the_fork_server_preloads() -> None:
    """In a fresh process, since this one's fork server may already be running."""
    script = textwrap.dedent(
        """
        import asyncio
        from cbewatch.workers import WorkerPool

        LOADED = "[m for m in ('colorsys', 'netrc') if m in __import__('sys').modules]"

        async def main():
            with WorkerPool(workers=1, preload=["colorsys"]) as first:
                print(await first.run(eval, LOADED))
            with WorkerPool(workers=1, preload=["netrc"]) as second:
                print(await second.run(eval, LOADED))

        asyncio.run(main())
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.split() == ["['colorsys']", "['colorsys']"]


def test_errors_survive_pickling() -> None:
    import pickle

    error = pickle.loads(pickle.dumps(HTTPStatusError("https://a.example/", 429, 30.0)))
    assert (error.url, error.status, error.retry_after) == ("https://a.example/", 429, 30.0)


def test_a_task_past_its_time_limit_is_killed_and_the_others_go_on() -> None:
    async def go() -> tuple[BaseException | None, list[int], float]:
        with WorkerPool(workers=2) as pool:
            start = time.monotonic()
            stuck = pool.run(time.sleep, 30, timeout=0.5)
            others = [pool.run(abs, -n) for n in range(1, 6)]
            results = await asyncio.gather(stuck, *others, return_exceptions=True)
            return results[0], results[1:], time.monotonic() - start  # type: ignore[return-value]

    stuck, others, elapsed = asyncio.run(go())
    assert isinstance(stuck, WorkerTimeout)
    assert others == [1, 2, 3, 4, 5]
    assert elapsed < 20  # not the 30 s the stuck task asked for


def test_stop_kills_a_busy_worker_and_does_not_wait_for_it() -> None:
    """What a poll does on SIGTERM: cancel its tasks, stop the pool, leave at once."""

    async def go() -> float:
        with WorkerPool(workers=2) as pool:
            await pool.run(abs, -1)  # the workers are up
            busy = asyncio.ensure_future(pool.run(time.sleep, 30, timeout=60))
            await asyncio.sleep(0.3)  # a worker is now sleeping in the task
            busy.cancel()
            start = time.monotonic()
            pool.stop()
        return time.monotonic() - start

    assert asyncio.run(go()) < 5  # leaving the pool did not wait out the 30 s task

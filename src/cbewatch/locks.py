"""Locks one data directory's processes take (flock on small files in data_dir): one
`serve` at a time (`serve.lock`, holding its pid), one reader of item pages at a time
(`pages.lock`), and one send of an issue to the list at a time (`send.lock`). A lock
dies with its process, so a crash never leaves one behind.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from .errors import CbewatchError

SERVE_LOCK = "serve.lock"
PAGES_LOCK = "pages.lock"
SEND_LOCK = "send.lock"


class AlreadyServing(CbewatchError):
    """Another `cbewatch serve` holds the data directory."""


@contextmanager
def serve_lock(data_dir: Path) -> Iterator[None]:
    """Hold `data_dir/serve.lock` while serving; a second serve is refused."""
    data_dir.mkdir(parents=True, exist_ok=True)
    with open(data_dir / SERVE_LOCK, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            pid = handle.read().strip() or "?"
            raise AlreadyServing(
                f"another cbewatch serve (pid {pid}) is already running on {data_dir}"
            ) from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        yield


def serving_pid(data_dir: Path) -> str | None:
    """The pid of the `serve` running on `data_dir` ("?" if it wrote none), or None."""
    path = data_dir / SERVE_LOCK
    if not path.exists():
        return None
    with open(path, "a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            return handle.read().strip() or "?"
        fcntl.flock(handle, fcntl.LOCK_UN)
    return None


@contextmanager
def page_reading(data_dir: Path) -> Iterator[bool]:
    """Hold `data_dir/pages.lock` while reading item pages: True when this process has
    it, False when another cbewatch is reading them now."""
    with _held(data_dir / PAGES_LOCK) as held:
        yield held


@contextmanager
def sending(data_dir: Path) -> Iterator[bool]:
    """Hold `data_dir/send.lock` while sending an issue to the list: True when this
    process has it, False when another cbewatch (a `send`, or serve's Send button) is
    sending now."""
    with _held(data_dir / SEND_LOCK) as held:
        yield held


@contextmanager
def _held(path: Path) -> Iterator[bool]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True

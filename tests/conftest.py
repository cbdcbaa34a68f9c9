"""Shared test fixtures: fixture sites on loopback and configs that point at them."""

from __future__ import annotations

import email
import email.policy
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from email.message import Message
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiosmtpd.controller import Controller

from cbewatch.config import load_config
from cbewatch.demo.server import SiteServer
from cbewatch.model.types import Entry
from cbewatch.services.accounts import add_user
from cbewatch.store import Store

FIXTURES = Path(__file__).parent / "fixtures"
ROOT = Path(__file__).parent.parent


def child_env(**extra: str) -> dict[str, str]:
    """The environment for a `python -m cbewatch` child: it imports cbewatch from the tree
    these tests come from (a worktree sharing another checkout's venv, whose editable
    install points elsewhere, included)."""
    return {**os.environ, "PYTHONPATH": str(ROOT / "src"), **extra}


@pytest.fixture
def site() -> Iterator[SiteServer]:
    """An empty fixture site on 127.0.0.1; tests add routes to it."""
    with SiteServer() as server:
        yield server


def write_config(folder: Path, body: str, allow: list[str] | None = None) -> Path:
    """Write a sources.yaml under `folder` with its data in `folder/var`."""
    hosts = "".join(f'\n    - "{h}"' for h in allow or [])
    network = f"network:\n  allow_hosts:{hosts}\n" if hosts else ""
    path = folder / "sources.yaml"
    path.write_text(f"data_dir: var\nuser_agent: cbewatch-test/1.0\n{network}{body}")
    return path


# ---------------------------------------------------------------------------------------
# `cbewatch serve` as the operator runs it: a real process on 127.0.0.1, a real database.

TOPICS = ("Personalized Learning", "Grading and Assessment", "Equity", "Policy")
PASSWORD = "correct horse battery"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Served:
    """A running `cbewatch serve`: its URL, config, process and captured stderr."""

    url: str
    config: Path
    process: subprocess.Popen
    log: Path

    def store(self) -> Store:
        return Store(load_config(self.config).db_path)

    def stop(self, timeout: float = 10.0) -> int:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)


def serve_config(
    folder: Path, sources: str = "sources: []\n", allow: list[str] | None = None
) -> Path:
    topics = "topics:\n" + "".join(f"  - name: {t}\n    keywords: [{t.lower()}]\n" for t in TOPICS)
    return write_config(folder, topics + sources, allow)


def start_serve(config: Path, *args: str, wait: bool = True) -> Served:
    port = free_port()
    log = config.parent / f"serve-{port}.log"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "cbewatch",
            "--config",
            str(config),
            "serve",
            "--port",
            str(port),
            *args,
        ],
        stdout=subprocess.DEVNULL,
        stderr=log.open("w"),
        env=child_env(),
    )
    served = Served(f"http://127.0.0.1:{port}", config, process, log)
    if wait:
        wait_until_up(served)
    return served


def wait_until_up(served: Served, timeout: float = 20.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if served.process.poll() is not None:
            raise AssertionError(f"serve exited: {served.log.read_text()}")
        try:
            httpx.get(served.url + "/healthz", timeout=1)
            return
        except httpx.TransportError:
            time.sleep(0.1)
    raise AssertionError("serve did not start in time")


def seed(config: Path, entries: list[Entry], source: str = "Alder Institute") -> None:
    """Items from one source, and the curators alice and bob."""
    with Store(load_config(config).db_path) as store:
        store.sources.sync([(source, "https://alder.example.org/feed", "feed")])
        store.sources.record_poll(source, entries, datetime.now(UTC))
        add_user(store, "alice", PASSWORD)
        add_user(store, "bob", PASSWORD)


def planner_stats(db_path: Path) -> dict[str, str]:
    """SQLite's query planner statistics (sqlite_stat1) by index (or table), read on a
    connection of its own; {} when no ANALYZE or optimize ever ran."""
    with closing(sqlite3.connect(db_path)) as db:
        if not db.execute("SELECT 1 FROM sqlite_schema WHERE name = 'sqlite_stat1'").fetchone():
            return {}
        return {idx or tbl: stat for tbl, idx, stat in db.execute("SELECT * FROM sqlite_stat1")}


def sample_entries(count: int = 8) -> list[Entry]:
    words = ["mastery", "grading", "equity", "pacing", "portfolio", "credit", "agency", "policy"]
    return [
        Entry(
            url=f"https://alder.example.org/posts/{i}",
            title=f"Post {i} on {words[i % len(words)]}",
            summary_text=f"What one district learned about {words[i % len(words)]} this fall.",
            published=datetime(2026, 11, 1, tzinfo=UTC) + timedelta(hours=12 * i),
        )
        for i in range(count)
    ]


def _serve_seeded(folder: Path) -> Iterator[Served]:
    config = serve_config(folder)
    seed(config, sample_entries())
    app = start_serve(config, "--no-scheduler")
    yield app
    app.stop()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """serve --no-scheduler on eight seeded items, with curators alice and bob, shared by
    a module's tests (each test touches its own items)."""
    yield from _serve_seeded(tmp_path_factory.mktemp("served"))


@pytest.fixture
def fresh_served(tmp_path: Path) -> Iterator[Served]:
    """The same as `served`, for one test alone."""
    yield from _serve_seeded(tmp_path)


def logged_in(served: Served, user: str = "alice") -> httpx.Client:
    """An HTTP client with a session for `user`."""
    client = httpx.Client(base_url=served.url, timeout=10)
    token = csrf_from(client.get("/login").text)
    response = client.post(
        "/login", data={"username": user, "password": PASSWORD, "csrf_token": token}
    )
    assert response.status_code == 303, response.text
    return client


def csrf_from(html: str) -> str:
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match, "no csrf_token in the page"
    return match.group(1)


# ---------------------------------------------------------------------------------------
# Debian's Chromium, driven by Playwright (which never downloads a browser).

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture(scope="module")
def browser() -> Iterator:
    """One Chromium for a module's tests (skipped where `make test` has not installed it)."""
    if not CHROMIUM.exists():
        pytest.skip("make test installs chromium")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


class Inbox:
    """What a real SMTP server (aiosmtpd on 127.0.0.1, see smtp_server) receives, with the
    envelope and the time each message arrived. `refuse` answers RCPT for an address
    with a fixed reply (a 550, say); `later` answers it 451 that many times first."""

    def __init__(
        self, refuse: dict[str, str] | None = None, later: dict[str, int] | None = None
    ) -> None:
        self.messages: list[tuple[list[str], Message]] = []
        self.times: list[float] = []
        self.refuse = refuse or {}
        self.later = dict(later or {})
        self.arrived = threading.Condition()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address in self.refuse:
            return self.refuse[address]
        if self.later.get(address, 0) > 0:
            self.later[address] -= 1
            return "451 4.7.1 Greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.arrived:
            message = email.message_from_bytes(envelope.content, policy=email.policy.default)
            self.messages.append((list(envelope.rcpt_tos), message))
            self.times.append(time.monotonic())
            self.arrived.notify_all()
        return "250 2.0.0 OK: queued"

    def to(self, address: str) -> list[Message]:
        return [m for rcpts, m in self.messages if address in rcpts]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list[Message]:
        with self.arrived:
            self.arrived.wait_for(lambda: len(self.to(address)) >= count, timeout)
        found = self.to(address)
        assert len(found) >= count, f"{count} emails to {address}: got {len(found)}"
        return found


@contextmanager
def smtp_server(handler: Inbox, **options: Any) -> Iterator[int]:
    """A real SMTP server on 127.0.0.1 handing what it gets to `handler` (`options` go to
    aiosmtpd's Controller: an authenticator, say); yields its port."""
    port = free_port()
    controller = Controller(handler, hostname="127.0.0.1", port=port, **options)
    controller.start()
    try:
        yield port
    finally:
        controller.stop()

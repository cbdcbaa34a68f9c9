"""The SQLite store: one file (`data_dir/cbewatch.db`) in WAL mode, upgraded by numbered
migrations on open, one module per entity. The only package that runs SQL or imports
sqlite3; it decides nothing (the rules are `model.deciders`) and imports no stage.

    with Store(path) as store:
        store.sources.record_poll(...)    sources and their health
        store.items.find(status="new")    items and extraction, rankings
        store.clusters.record(...)        duplicate clusters
        store.queue.page(query)           the curators' queue (read-only)
        store.decisions.set(...)          decisions and the audit log
        store.users.save(...)             curator accounts and sessions
        store.jobs.backup_to(path)        job runs, backups, the file's health
        store.issues.latest("2026-11")    monthly issues and their revisions
        store.subscribers.find("confirmed")  the subscriber list
        store.deliveries                  the delivery ledger: one row per issue and subscriber
        store.boilerplate.counts(...)     blocks seen on many pages of a site (its chrome)
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import sqlite_utils

from .boilerplate import Boilerplate
from .clusters import Clusters
from .connection import Connection
from .decisions import Decisions
from .deliveries import Deliveries
from .issues import Issues
from .items import Items
from .jobs import Jobs
from .migrations import MIGRATIONS, SCHEMA_VERSION
from .queue import Queue
from .sources import Sources
from .subscribers import Subscribers
from .users import Users

__all__ = ["MIGRATIONS", "SCHEMA_VERSION", "Store", "StorePool"]


class Store:
    """The database. Open with `Store(path)`; it is upgraded to SCHEMA_VERSION on open.
    One Store is one connection: use it from one thread at a time (StorePool lends one
    to each thread that asks)."""

    def __init__(self, path: Path | str) -> None:
        self.connection = Connection(path)
        self.path = self.connection.path
        self.sources = Sources(self.connection)
        self.items = Items(self.connection)
        self.clusters = Clusters(self.connection)
        self.queue = Queue(self.connection)
        self.decisions = Decisions(self.connection)
        self.users = Users(self.connection)
        self.jobs = Jobs(self.connection)
        self.issues = Issues(self.connection)
        self.subscribers = Subscribers(self.connection)
        self.deliveries = Deliveries(self.connection)
        self.boilerplate = Boilerplate(self.connection)

    @property
    def db(self) -> sqlite_utils.Database:
        return self.connection.db

    @property
    def schema_version(self) -> int:
        return self.connection.schema_version

    def transaction(self) -> AbstractContextManager[sqlite_utils.Database]:
        return self.connection.transaction()

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class StorePool:
    """Stores for many threads (the web app's worker threads): each `borrow` lends a
    Store no other thread is using, opening one when none is free, so a slow write in
    one thread never holds up another's reads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._free: list[Store] = []
        self._all: list[Store] = []
        self._lock = threading.Lock()

    @contextmanager
    def borrow(self) -> Iterator[Store]:
        with self._lock:
            store = self._free.pop() if self._free else None
        if store is None:
            store = Store(self.path)
            with self._lock:
                self._all.append(store)
        try:
            yield store
        finally:
            with self._lock:
                self._free.append(store)

    def close(self) -> None:
        with self._lock:
            for store in self._all:
                store.close()
            self._all.clear()
            self._free.clear()

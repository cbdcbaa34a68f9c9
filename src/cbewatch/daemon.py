"""`cbewatch serve`: one process running the web app on uvicorn and the APScheduler jobs
(poll due sources, re-rank after the curators' decisions, nightly backup, pruning of old
job runs, the query planner's statistics).

The poll runs in a worker thread with its own store connection, never on the web's event
loop. One serve per data directory (a lock file). On SIGTERM uvicorn stops taking
requests, a running poll stops at a safe point (between sources' transactions), and the
process exits 0 within seconds.
"""

from __future__ import annotations

import errno
import logging
import signal
import socket
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import uvicorn
from apscheduler.schedulers.background import BackgroundScheduler

from .config import Settings
from .errors import CbewatchError
from .locks import serve_lock
from .services import sending as send_service
from .services import sources as source_service
from .services import upkeep
from .services.sources import FetchHooks
from .store import Store
from .web.app import create_app

log = logging.getLogger("cbewatch")

POLL_EVERY = timedelta(minutes=1)  # how often due sources are looked for
RERANK_EVERY = timedelta(minutes=2)  # how soon the queue's order follows new decisions
BACKUP_HOUR = 3  # local time of the nightly backup
STOP_WAIT = 6.0  # seconds a running poll gets to reach a safe point on shutdown
JOB_DEFAULTS = {"max_instances": 1, "coalesce": True, "misfire_grace_time": 600}


LOG_LEVELS = ("debug", "info", "warning", "error")
# Libraries that log a line per request or per step: their lines come only at "debug".
CHATTY = ("httpx", "httpcore", "apscheduler", "uvicorn.access", "multipart", "asyncio")


def configure_logging(level: str = "info") -> None:
    """One line per job run and per error on stderr, with a timestamp: journald keeps it
    as is. Per-request lines of the libraries only when `level` is "debug"."""
    chosen = getattr(logging, level.upper())
    logging.basicConfig(
        stream=sys.stderr,
        level=chosen,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        datefmt="%Y-%m-%dT%H:%M:%S%z",
        force=True,
    )
    for name in CHATTY:
        logging.getLogger(name).setLevel(chosen if chosen <= logging.DEBUG else logging.WARNING)


def check_port(host: str, port: int, option: str = "--port") -> None:
    """CbewatchError, before any long work, when `host:port` cannot be listened on."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does
        try:
            probe.bind((host, port))
        except OSError as exc:
            reason = "is in use" if exc.errno == errno.EADDRINUSE else f"cannot be used ({exc})"
            raise CbewatchError(
                f"port {port} on {host} {reason}: choose another with {option}, "
                f"e.g. {option} {port + 1}"
            ) from None


class Daemon:
    """The scheduler's jobs and what the web app may ask of them (web.pages.Operations)."""

    def __init__(self, settings: Settings, scheduler: bool = True) -> None:
        self.settings = settings
        self.stop = threading.Event()
        self._poll_lock = threading.Lock()
        self._send_lock = threading.Lock()
        self._sending: str | None = None  # the month whose issue is going out
        self._sent: dict[str, str] = {}  # month → how its last send here ended
        # Polls rank what they store: a rerank waits its turn rather than train beside one.
        self._rank_lock = threading.Lock()
        self._ranked_decisions: object = None  # the decisions the queue was last ranked on
        self._scheduler = BackgroundScheduler(job_defaults=JOB_DEFAULTS) if scheduler else None

    # -- what the web app sees ------------------------------------------------------

    def scheduler_state(self) -> str:
        if self._scheduler is None:
            return "off"
        return "running" if self._scheduler.running else "stopped"

    def polling(self) -> bool:
        return self._poll_lock.locked()

    def poll_now(self, names: list[str]) -> bool:
        if self.polling():
            return False
        threading.Thread(target=self.poll_job, args=(names,), name="poll-now").start()
        return True

    def sending(self) -> str | None:
        return self._sending if self._send_lock.locked() else None

    def send_now(self, month: str) -> bool:
        """Start sending the month's approved issue to the list in the background; False
        when a send is running already."""
        if not self._send_lock.acquire(blocking=False):
            return False
        self._sending = month
        threading.Thread(target=self._send_job, args=(month,), name="send-now").start()
        return True

    def _send_job(self, month: str) -> None:
        try:
            self._job("send", lambda store: self._send(store, month))
        finally:
            self._send_lock.release()

    def send_result(self, month: str) -> str | None:
        return self._sent.get(month)

    def _send(self, store: Store, month: str) -> str:
        try:
            line = send_service.send_issue(store, self.settings, month, stop=self.stop).line()
        except CbewatchError as exc:
            self._sent[month] = f"The send did not run: {exc}."
            raise
        self._sent[month] = line
        return line

    # -- lifecycle ------------------------------------------------------------------

    def start(self) -> None:
        if self._scheduler is None:
            log.info("scheduler off (--no-scheduler): polls only when asked")
            return
        add = self._scheduler.add_job
        every = POLL_EVERY.total_seconds()
        add(self.poll_job, "interval", seconds=every, id="poll", next_run_time=datetime.now(UTC))
        add(self.rerank_job, "interval", seconds=RERANK_EVERY.total_seconds(), id="rerank")
        add(self.backup_job, "cron", hour=BACKUP_HOUR, id="backup")
        add(self.prune_job, "cron", hour=BACKUP_HOUR, minute=30, id="prune")
        add(self.optimize_job, "cron", hour=BACKUP_HOUR, minute=45, id="optimize")
        self._scheduler.start()
        log.info("scheduler started: poll every %s, backup at %02d:00", POLL_EVERY, BACKUP_HOUR)

    def shutdown(self) -> None:
        """Stop the jobs: a running poll gets STOP_WAIT seconds to reach a safe point."""
        self.stop.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        for name, lock in (("poll", self._poll_lock), ("send", self._send_lock)):
            if lock.acquire(timeout=STOP_WAIT):
                lock.release()
            else:
                log.warning("the %s did not stop in %.0f s; exiting anyway", name, STOP_WAIT)

    # -- jobs -----------------------------------------------------------------------

    def _job(self, name: str, work: Callable[[Store], str]) -> None:
        """Run one job with its own store connection; log one line; record the run."""
        started = time.monotonic()
        try:
            with Store(self.settings.db_path) as store:
                detail = upkeep.run_job(store, name, work)
        except Exception as exc:  # one line for the journal; the job runs again next time
            log.error("%s failed: %s: %s", name, type(exc).__name__, exc)
            return
        log.info("%s: %s (%.1f s)", name, detail, time.monotonic() - started)

    def poll_job(self, names: list[str] | None = None) -> None:
        """Poll the due sources (or the named ones); skipped while another poll runs."""
        if not self._poll_lock.acquire(blocking=False):
            log.info("poll skipped: the previous poll is still running")
            return
        try:
            if names or self._anything_due():
                with self._rank_lock:
                    self._job("poll", lambda store: self._poll(store, names or []))
        finally:
            self._poll_lock.release()

    def _anything_due(self) -> bool:
        """Whether a poll would poll anything (no job run is recorded for an idle minute)."""
        with Store(self.settings.db_path) as store:
            return bool(source_service.due_sources(store, self.settings))

    def _poll(self, store: Store, names: list[str]) -> str:
        summary = source_service.fetch(
            store, self.settings, names, hooks=FetchHooks(stop=self.stop)
        )
        if self.stop.is_set():
            return summary.line() + " (stopped early: shutting down)"
        return summary.line()

    def rerank_job(self) -> None:
        """Rescore the new items once the curators' decisions changed (retraining the
        model on them), so that what they keep rejecting sinks without waiting for the
        next poll that brings new items."""
        if not self._rank_lock.acquire(blocking=False):
            return  # a poll is ranking; the next run sees what it did not
        try:
            with Store(self.settings.db_path) as store:
                decisions = upkeep.decision_labels(store)
            if decisions == self._ranked_decisions or self.stop.is_set():
                return

            def work(store: Store) -> str:
                summary = upkeep.rerank(store, self.settings)
                self._ranked_decisions = decisions
                return summary.line()

            self._job("rerank", work)
        finally:
            self._rank_lock.release()

    def backup_job(self) -> None:
        folder = self.settings.data_dir / "backups"
        self._job("backup", lambda store: upkeep.nightly_backup(store, folder))

    def prune_job(self) -> None:
        self._job("prune", upkeep.prune_job_runs)

    def optimize_job(self) -> None:
        """Nightly, after the backup: the statistics the queue's query plans rest on."""
        self._job("optimize", upkeep.optimize)


def _stopped_by_signal(signum: int, frame: object) -> None:
    log.info("stopping on %s", signal.Signals(signum).name)


def serve(
    settings: Settings,
    host: str,
    port: int,
    scheduler: bool = True,
    forwarded_allow_ips: str = "",
    log_level: str = "info",
) -> None:
    """Run the web app and the scheduler until SIGTERM or Ctrl+C. `forwarded_allow_ips`
    (comma-separated) are the proxies whose X-Forwarded-For and X-Forwarded-Proto are
    believed; by default nobody's, so a client cannot choose its own address."""
    check_port(host, port)
    configure_logging(log_level)
    with serve_lock(settings.data_dir):
        with Store(settings.db_path) as store:  # migrate before anything else opens it
            source_service.sync_sources(store, settings)
        daemon = Daemon(settings, scheduler)
        app = create_app(settings, daemon)
        config = uvicorn.Config(
            app,
            host=host,
            port=port,
            log_config=None,
            access_log=False,
            # A TLS proxy the operator names sets X-Forwarded-Proto and X-Forwarded-For:
            # the login limits count by the client's address, never the proxy's. From
            # anyone else the headers are ignored (uvicorn would trust 127.0.0.1 alone).
            proxy_headers=bool(forwarded_allow_ips),
            forwarded_allow_ips=forwarded_allow_ips or None,
            timeout_graceful_shutdown=3,
            server_header=False,
        )
        server = uvicorn.Server(config)
        # uvicorn re-raises the signal that stopped it once it is done; by then the stop
        # is clean, so this handler lets the process end with status 0.
        signal.signal(signal.SIGTERM, _stopped_by_signal)
        daemon.start()
        log.info("serving %s on http://%s:%d/", settings.db_path, host, port)
        try:
            server.run()
        finally:
            daemon.shutdown()
            log.info("stopped")

"""Sending an approved issue to the list: one email per confirmed subscriber, each
recorded in the delivery ledger before and after its SMTP transaction, so that running
`send` again after a crash skips who got it, retries who did not, and re-sends at most
once to whoever was in flight when the process died (named in the summary).

A run: rows left `sending` by a dead run become in doubt and queued; rows of addresses
that left the list are dropped; every confirmed subscriber without a row is queued. Then
passes over the queue: `concurrency` reused connections at `smtp.rate`; a 4xx puts the
row back for the next pass (after `retry_delay`, doubling, PASSES passes in all), a 5xx
fails it. What is still queued after the last pass waits for the next `send`.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field, replace

from ..config import Settings
from ..errors import IssueError, SendError
from ..locks import sending
from ..mail.addresses import wire_address
from ..mail.compose import IssueCopies, IssueMail
from ..mail.links import mail_tokens, unsubscribe_url
from ..mail.sender import Attempt, Connection, Rate, ServerUnusable, password
from ..model.times import to_iso, utc_now
from ..model.types import Delivery, Issue
from ..store import Store
from . import issues as issue_service
from .delivery import Tally, tally
from .publishing import issue_mail

PASSES = 3  # the first try and two retries of what a server refused for now
SLICE = 200  # ledger rows read at a time: memory stays flat however long the list
UNREACHABLE_LIMIT = 3  # failed connects in a row that end the run


@dataclass
class SendReport:
    month: str
    revision: int
    sent: int = 0  # this run
    failed: list[tuple[str, str]] = field(default_factory=list)  # (address, reason)
    bounced: list[str] = field(default_factory=list)  # taken off the list this run
    resent: list[str] = field(default_factory=list)  # in doubt from a dead run, sent again
    left: int = 0  # still queued for a later run
    stopped: str | None = None  # why the run ended before the queue did

    def line(self) -> str:
        """The one summary line: what went, what did not and why, what is left."""
        parts = [f"sent the {self.month} issue to {self.sent} subscribers"]
        if self.failed:
            shown = "; ".join(f"{who} ({why})" for who, why in self.failed[:3])
            more = f" and {len(self.failed) - 3} more" if len(self.failed) > 3 else ""
            parts.append(f"{len(self.failed)} failed: {shown}{more}")
        if self.bounced:
            parts.append(f"marked bounced: {', '.join(self.bounced[:5])}")
        if self.resent:
            parts.append(
                f"re-sent {len(self.resent)} in doubt after an interrupted send "
                f"(they may have it twice): {', '.join(self.resent)}"
            )
        if self.left:
            parts.append(f"{self.left} left for the next `cbewatch send`")
        if self.stopped:
            parts.append(f"stopped: {self.stopped}")
        return "; ".join(parts)


Progress = Callable[[Tally], None]


def issue_to_send(store: Store, month: str) -> Issue:
    """The month's newest approved (or partly sent) revision; IssueError when none."""
    published = store.issues.published(issue_service.checked_month(month))
    if not published:
        raise IssueError(
            f"the {month} issue is not approved: approve it first (cbewatch issue approve "
            f"{month}, or Approve on its page)"
        )
    return published[0]


def send_issue(
    store: Store,
    settings: Settings,
    month: str,
    progress: Progress | None = None,
    stop: threading.Event | None = None,
) -> SendReport:
    """Send (or go on sending) the month's approved issue to every confirmed subscriber.
    SendError when it cannot start: another send runs, the login has no password."""
    issue = issue_to_send(store, month)
    login = password(settings.smtp)
    with sending(settings.data_dir) as held:
        if not held:
            raise SendError(f"another cbewatch is sending an issue from {settings.data_dir} now")
        store.deliveries.mark_in_doubt(issue.month)
        store.deliveries.drop_unsubscribed(issue.month)
        store.deliveries.queue(issue.month, issue.revision)
        run = _Run(store, settings, issue, issue_mail(settings, issue), progress, stop)
        report = asyncio.run(run.go(login))
        report.left = tally(store, issue.month).left
        if not report.left and issue.status != "sent":
            store.issues.save(replace(issue, status="sent", sent_at=to_iso(utc_now())), None)
    return report


class _Run:
    """One run's passes over the queue, its connections and its counts."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        issue: Issue,
        mail: IssueMail,
        progress: Progress | None,
        stop: threading.Event | None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.issue = issue
        self.copies = IssueCopies(settings, mail)
        self.tokens = mail_tokens(settings)
        self.progress = progress
        self.stop = stop or threading.Event()
        self.report = SendReport(issue.month, issue.revision)
        self.unreachable = 0
        self.tally = tally(store, issue.month)

    async def go(self, login: str | None) -> SendReport:
        smtp = self.settings.smtp
        rate = Rate(smtp.rate)
        connections = [Connection(smtp, login) for _ in range(smtp.concurrency)]
        self._show()
        try:
            for number in range(PASSES):
                if number:
                    if not self.tally.left or self.report.stopped:
                        break
                    await asyncio.sleep(smtp.retry_delay * 2 ** (number - 1))
                await self._pass(connections, rate)
                self.tally = tally(self.store, self.issue.month)
        finally:
            for connection in connections:
                await connection.close()
        return self.report

    async def _pass(self, connections: list[Connection], rate: Rate) -> None:
        """Every queued row once, in subscriber order, over all the connections; the
        rows are read SLICE at a time and handed on through a short queue."""
        rows: asyncio.Queue[Delivery | None] = asyncio.Queue(maxsize=2 * len(connections))

        async def read() -> None:
            after = 0
            while not self._stopping():
                found = self.store.deliveries.queued(self.issue.month, after, SLICE)
                if not found:
                    break
                for row in found:
                    await rows.put(row)
                after = found[-1].subscriber_id
            for _ in connections:
                await rows.put(None)

        async def work(connection: Connection) -> None:
            while (row := await rows.get()) is not None:
                if not self._stopping():
                    await self._deliver(connection, rate, row)

        await asyncio.gather(read(), *(work(c) for c in connections))

    async def _deliver(self, connection: Connection, rate: Rate, row: Delivery) -> None:
        subscriber = self.store.subscribers.get(row.subscriber_id)
        if subscriber is None or subscriber.status != "confirmed":
            self.store.deliveries.drop_unsubscribed(self.issue.month)
            return  # they left the list while the send ran
        await rate.wait()
        try:
            await connection.open()
        except ServerUnusable as exc:
            self.unreachable += 1
            if exc.lasting or self.unreachable >= UNREACHABLE_LIMIT:
                self.report.stopped = str(exc)
            return
        self.unreachable = 0
        to = wire_address(subscriber.email)
        message = self.copies.copy(to, unsubscribe_url(self.settings, self.tokens, subscriber))
        deliveries, month = self.store.deliveries, self.issue.month
        deliveries.sending(month, row.subscriber_id, self.issue.revision)
        try:
            attempt = await connection.send(self.settings.newsletter.sender, to, message)
        except ServerUnusable as exc:  # it refused our sender: no message will go
            deliveries.retry_later(month, row.subscriber_id, str(exc))
            self.report.stopped = str(exc)
            return
        self._record(row, attempt)

    def _record(self, row: Delivery, attempt: Attempt) -> None:
        deliveries, month, who = self.store.deliveries, self.issue.month, row.subscriber_id
        if attempt.outcome == "sent":
            deliveries.sent(month, who, attempt.reply)
            self.report.sent += 1
            if row.in_doubt:
                self.report.resent.append(row.email)
            self.tally = replace(self.tally, sent=self.tally.sent + 1, left=self.tally.left - 1)
        elif attempt.outcome == "failed":
            if deliveries.failed(month, who, attempt.reply, bounce=attempt.bounce):
                self.report.bounced.append(row.email)
            self.report.failed.append((row.email, attempt.reply))
            self.tally = replace(self.tally, failed=self.tally.failed + 1, left=self.tally.left - 1)
        else:
            deliveries.retry_later(month, who, attempt.reply, in_doubt=attempt.in_doubt)
        self._show()

    def _stopping(self) -> bool:
        if self.stop.is_set() and not self.report.stopped:
            self.report.stopped = "asked to stop; run send again to go on"
        return bool(self.report.stopped)

    def _show(self) -> None:
        if self.progress is not None:
            self.progress(self.tally)

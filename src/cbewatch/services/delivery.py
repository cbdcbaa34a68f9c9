"""Where the sending of an issue stands, read from the delivery ledger: what the issue's
page shows (live while a send runs) and what `cbewatch send --status` prints."""

from __future__ import annotations

from dataclasses import dataclass

from ..store import Store
from .issues import checked_month


@dataclass(frozen=True)
class Tally:
    """A send's counts: what the progress bar and the issue's page show."""

    sent: int
    failed: int
    left: int  # queued or in flight

    @property
    def total(self) -> int:
        return self.sent + self.failed + self.left


@dataclass(frozen=True)
class DeliveryView:
    month: str
    approved: bool  # an approved (or sent) revision exists: there is something to send
    tally: Tally
    confirmed: int  # confirmed subscribers
    to_send: int  # those a send would mail now: queued, or with no row yet


def tally(store: Store, month: str) -> Tally:
    counts = store.deliveries.counts(month)
    return Tally(counts["sent"], counts["failed"], counts["queued"] + counts["sending"])


def delivery_status(store: Store, month: str) -> dict[str, int]:
    """The ledger's counts for the month's issue (each status, and `in_doubt`)."""
    return store.deliveries.counts(checked_month(month))


def delivery_view(store: Store, month: str) -> DeliveryView:
    month = checked_month(month)
    counts = tally(store, month)
    return DeliveryView(
        month=month,
        approved=bool(store.issues.published(month)),
        tally=counts,
        confirmed=store.subscribers.counts()["confirmed"],
        to_send=counts.left + store.deliveries.not_queued(month),
    )

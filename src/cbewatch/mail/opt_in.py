"""The list's rules as pure functions: what a subscribe request, a confirmation, an
operator's add and an import do to an address, given its status on the list (None: not
on it). Tested as tables (tests/test_subscribers.py); the service applies what they say.
Never does I/O.

Statuses: `pending` (asked, not confirmed), `confirmed` (gets the newsletter),
`unsubscribed`, `bounced` (delivery gave up on it).
"""

from __future__ import annotations

from enum import StrEnum


class Step(StrEnum):
    ADD_PENDING = "add pending"  # a new row, pending; a confirmation email
    ADD_CONFIRMED = "add confirmed"  # a new row, confirmed (the operator holds consent)
    REMIND = "remind"  # still pending: a new confirmation email, nothing else changes
    RESUBSCRIBE = "resubscribe"  # back to pending (dates cleared); a confirmation email
    CONFIRM = "confirm"  # pending (or gone) → confirmed, today
    ALREADY = "already"  # confirmed already: the list stays as it is
    NOTIFY = "notify"  # confirmed already: an "already subscribed" email, no change
    KEEP = "keep"  # leave the row alone (an import never undoes an unsubscription)
    REFUSE = "refuse"  # the request cannot be honoured (a stale confirmation link)


def on_subscribe(status: str | None) -> Step:
    """The archive's form. Every answer looks the same to the visitor; what differs is
    the email. A confirmed address gets an "already subscribed" note rather than
    nothing, so the request takes as long (and fails as loudly when the mail server is
    down) whatever the address's status: the page never tells who is on the list."""
    if status is None:
        return Step.ADD_PENDING
    if status == "pending":
        return Step.REMIND
    if status == "confirmed":
        return Step.NOTIFY
    return Step.RESUBSCRIBE  # unsubscribed or bounced, asking again


def on_confirm(status: str | None) -> Step:
    """A confirmation link's POST. Only a pending address is confirmed: an unsubscribed
    one must ask again (an old link must not undo an unsubscription)."""
    if status == "pending":
        return Step.CONFIRM
    if status == "confirmed":
        return Step.ALREADY
    return Step.REFUSE


def on_add(status: str | None, consented: bool) -> Step:
    """An operator's or curator's add (`cbewatch subscribers add`, the /subscribers form).
    Without `consented` the address is asked by email, as the form does; with it (the
    operator states the person agreed) it is confirmed at once, even after an
    unsubscription (the person said yes again, to them)."""
    if status is None:
        return Step.ADD_CONFIRMED if consented else Step.ADD_PENDING
    if status == "confirmed":
        return Step.ALREADY
    if consented:
        return Step.CONFIRM
    return Step.REMIND if status == "pending" else Step.RESUBSCRIBE


def on_import(status: str | None, consented: bool) -> Step:
    """One row of an imported list. Nothing is mailed. An address already on the list is
    merged: with `consented` a pending one is confirmed; an unsubscribed or bounced one
    is kept as it is (re-importing an old list must never resubscribe anyone)."""
    if status is None:
        return Step.ADD_CONFIRMED if consented else Step.ADD_PENDING
    if status == "pending" and consented:
        return Step.CONFIRM
    return Step.KEEP

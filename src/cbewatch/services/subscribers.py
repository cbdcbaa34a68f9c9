"""What people do with the subscriber list: subscribe on the archive's form and confirm
by email (double opt-in), unsubscribe by a link (one click), and what operators and
curators do (add, import, export, list, remove). The rules are `mail/opt_in.py`'s; this
module reads the store, asks them, writes back, and sends the confirmation emails
(synchronously: the web app calls it off the event loop, through `web.pages.call`).

Never tells a caller of `subscribe` anything that depends on the address's status:
the web page built from it must look the same for every address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TextIO

from ..config import Settings
from ..errors import StoreError, SubscriberError
from ..mail.addresses import clean_name, normalize_address
from ..mail.confirmation import already_subscribed_message, confirmation_message
from ..mail.links import confirm_url, unsubscribe_url
from ..mail.lists import read_list, write_list
from ..mail.opt_in import Step, on_add, on_confirm, on_import, on_subscribe
from ..mail.smtp import send_message
from ..mail.tokens import BadToken, Tokens
from ..model.types import SUBSCRIBER_STATUSES, Subscriber
from ..store import Store
from .upkeep import optimize

# Each subscribe request asks this before mailing an address (the web app's limit on
# emails per recipient); the command line and the curators' page mail without asking.
MailCheck = Callable[[str], bool]
_ASKS_TO_CONFIRM = (Step.ADD_PENDING, Step.REMIND, Step.RESUBSCRIBE)


def _always(_address: str) -> bool:
    return True


@dataclass(frozen=True)
class Outcome:
    """What a subscribe or add did: the subscriber as it is now, the rule's step, and
    whether an email went out."""

    subscriber: Subscriber
    step: Step
    mailed: bool


# -- the public side ------------------------------------------------------------------


def subscribe(
    store: Store,
    settings: Settings,
    tokens: Tokens,
    email: str,
    name: str = "",
    may_mail: MailCheck = _always,
) -> Outcome:
    """The archive's form: a new (or unsubscribed) address becomes pending and gets a
    confirmation link; a pending one gets a new link; a confirmed one gets a note that it
    is subscribed already. SubscriberError for an address that is none; DeliveryError
    when the mail server did not take the email (the list keeps the request)."""
    address = normalize_address(email)
    return _request(store, settings, tokens, address, clean_name(name), on_subscribe, may_mail)


def _request(
    store: Store,
    settings: Settings,
    tokens: Tokens,
    address: str,
    name: str,
    rule: Callable[[str | None], Step],
    may_mail: MailCheck,
    source: str = "form",
) -> Outcome:
    existing = store.subscribers.by_email(address)
    step = rule(existing.status if existing else None)
    try:
        subscriber = _apply(store, step, existing, address, name, source)
    except StoreError:  # the same address added by another request a moment ago
        existing = store.subscribers.by_email(address)
        if existing is None:
            raise
        step = rule(existing.status)
        subscriber = _apply(store, step, existing, address, name, source)
    mailed = _mail(settings, tokens, step, subscriber, may_mail)
    return Outcome(subscriber, step, mailed)


def _apply(
    store: Store,
    step: Step,
    existing: Subscriber | None,
    address: str,
    name: str,
    source: str,
) -> Subscriber:
    subscribers = store.subscribers
    if existing is None:
        status = "confirmed" if step is Step.ADD_CONFIRMED else "pending"
        return subscribers.add(address, name, status, source)
    if step is Step.RESUBSCRIBE:
        subscribers.resubscribe(existing.id, source, name or None)
    elif step is Step.CONFIRM:
        subscribers.confirm(existing.id, source)
    elif step is Step.REMIND and name and not existing.name:
        subscribers.set_name(existing.id, name)  # a stranger may fill a name, never change one
    found = subscribers.get(existing.id)
    assert found is not None
    return found


def _mail(
    settings: Settings, tokens: Tokens, step: Step, subscriber: Subscriber, may_mail: MailCheck
) -> bool:
    if step in _ASKS_TO_CONFIRM:
        link = confirm_url(settings, tokens, subscriber)
        message = confirmation_message(settings, subscriber.email, link)
    elif step is Step.NOTIFY:
        link = unsubscribe_url(settings, tokens, subscriber)
        message = already_subscribed_message(settings, subscriber.email, link)
    else:
        return False
    if not may_mail(subscriber.email):
        return False
    send_message(settings, message)
    return True


def confirming_address(tokens: Tokens, token: str) -> str:
    """The address a confirmation token is for, reading nothing (the page a link opens
    shows it beside the Confirm button). BadToken when forged or expired."""
    return tokens.read_confirm(token)[1]


def confirm(store: Store, tokens: Tokens, token: str) -> Subscriber:
    """The Confirm button: the token's pending subscriber becomes confirmed (source
    "form"); confirming twice is fine. BadToken when the token is forged or expired, or
    its subscriber was removed or has unsubscribed since (they must subscribe again)."""
    subscriber_id, email = tokens.read_confirm(token)
    found = store.subscribers.get(subscriber_id)
    if found is None or found.email != email:  # removed (an id may be used again)
        raise BadToken()
    step = on_confirm(found.status)
    if step is Step.REFUSE:
        raise BadToken()
    if step is Step.CONFIRM:
        store.subscribers.confirm(found.id, "form")
    confirmed = store.subscribers.get(found.id)
    assert confirmed is not None
    return confirmed


def unsubscribing_address(tokens: Tokens, token: str) -> str:
    """The address an unsubscribe token is for (BadToken when forged); reads nothing."""
    return tokens.read_unsubscribe(token)[1]


def unsubscribe(store: Store, tokens: Tokens, token: str) -> bool:
    """One click: the token's subscriber is unsubscribed at once. True when that changed
    something; False when it was done before or the address is no longer on the list.
    BadToken when the token is forged."""
    subscriber_id, email = tokens.read_unsubscribe(token)
    found = store.subscribers.get(subscriber_id)
    if found is None or found.email != email or found.status == "unsubscribed":
        return False
    store.subscribers.set_status(found.id, "unsubscribed")
    return True


# -- operators and curators ------------------------------------------------------------


def add(
    store: Store,
    settings: Settings,
    tokens: Tokens,
    email: str,
    name: str = "",
    consented: bool = False,
    source: str = "cli",
) -> Outcome:
    """An address added by hand. Without `consented` it is asked by email as the form
    does (pending until its owner confirms); with it (the person agreed, the operator
    says so) it is confirmed at once. DeliveryError when the email could not be sent."""
    address = normalize_address(email)

    def rule(status: str | None) -> Step:
        return on_add(status, consented)

    return _request(store, settings, tokens, address, clean_name(name), rule, _always, source)


@dataclass
class ImportReport:
    added: int = 0
    merged: int = 0  # repeated in the file, or on the list already
    skipped: int = 0  # bad rows, each in `problems`
    problems: list[str] = field(default_factory=list)

    def line(self) -> str:
        return f"added {self.added}, merged {self.merged}, skipped {self.skipped}"


def import_list(store: Store, text: str, consented: bool, source: str) -> ImportReport:
    """Another tool's CSV export into the list, in one transaction. Nothing is mailed:
    without `consented` new addresses are pending and get nothing until they confirm
    (on the archive's form); with it they are confirmed. An address on the list already
    keeps its status (an unsubscription is never undone), except that `consented`
    confirms a pending one; a missing name is filled in."""
    read = read_list(text)
    existing = store.subscribers.by_emails(row.email for row in read.rows)
    new: list[tuple[str, str]] = []
    to_confirm: list[int] = []
    names: dict[int, str] = {}
    for row in read.rows:
        found = existing.get(row.email)
        step = on_import(found.status if found else None, consented)
        if found is None:
            new.append((row.email, row.name))
            continue
        if step is Step.CONFIRM:
            to_confirm.append(found.id)
        if row.name and not found.name:
            names[found.id] = row.name
    status = "confirmed" if consented else "pending"
    added = store.subscribers.import_rows(new, status, source, to_confirm, names)
    optimize(store)
    merged = read.duplicates + len(read.rows) - added
    return ImportReport(added, merged, len(read.problems), read.problems)


def export_list(store: Store, out: TextIO) -> int:
    """The whole list as CSV (email,name,status,created,confirmed,unsubscribed), in the
    order it came; returns how many rows."""
    return write_list(store.subscribers.find(), out)


def find(store: Store, status: str | None = None) -> list[Subscriber]:
    if status is not None and status not in SUBSCRIBER_STATUSES:
        raise SubscriberError(f"status must be one of {', '.join(SUBSCRIBER_STATUSES)}")
    return store.subscribers.find(status)


def remove(store: Store, emails: Iterable[str]) -> tuple[list[str], list[str]]:
    """Forget these addresses (and their delivery records): (removed, not on the list),
    each as given."""
    removed: list[str] = []
    missing: list[str] = []
    ids: list[int] = []
    for given in emails:
        try:
            found = store.subscribers.by_email(normalize_address(given))
        except SubscriberError:
            found = None
        if found is None:
            missing.append(given)
        else:
            ids.append(found.id)
            removed.append(given)
    store.subscribers.remove(ids)
    return removed, missing


def remove_one(store: Store, subscriber_id: int) -> str | None:
    """The curators' remove button: the address removed, or None if it was gone."""
    found = store.subscribers.get(subscriber_id)
    if found is None:
        return None
    store.subscribers.remove([found.id])
    return found.email


@dataclass(frozen=True)
class Overview:
    """The curators' page: counts by status, and the newest subscribers."""

    counts: dict[str, int]
    newest: list[Subscriber]
    shown_status: str | None

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def overview(store: Store, limit: int, status: str | None = None) -> Overview:
    if status not in SUBSCRIBER_STATUSES:
        status = None
    return Overview(store.subscribers.counts(), store.subscribers.newest(limit, status), status)

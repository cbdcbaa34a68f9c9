"""The curators' work on items: the queue and its filters, an item's page, and decisions
(accept or reject with a section and a blurb, reopen, a topic, a blurb, undo), by one set
of rules whether they come from the web queue or `cbewatch triage`.

Every change goes through the store's decision log (version bump and audit row in one
transaction). It never retrains ranking (the next `rank`, `fetch` or `serve`'s rerank
job does, seeing the decisions changed).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from ..errors import NoSuchItem, TriageError
from ..model.times import utc_now
from ..model.types import AuditEntry, Changes, Item, QueueCursor, QueueQuery
from ..store import Store

DECISIONS = {"accept": "accepted", "reject": "rejected"}
ACTIONS = ("accept", "reject", "reopen", "topic", "blurb", "undo")
# The queue counts the items in view up to this many; past it, it says "more than".
COUNT_CAP = 1000
BLURB_MAX = 1000


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue, where the next one starts, what the filters offer, and how
    many items they match on every page together (COUNT_CAP + 1 means more than
    COUNT_CAP)."""

    items: list[Item]
    next: QueueCursor | None
    choices: dict[str, list[str]]
    total: int
    month: str  # the month `sections` counts: the month filter's, else the current one
    sections: list[tuple[str, int]]  # (section, items accepted) for `month`


@dataclass(frozen=True)
class ItemPage:
    item: Item
    audit: list[AuditEntry]


def find_items(
    store: Store,
    status: str | None = None,
    source: str | None = None,
    since: datetime | None = None,
    month: str | None = None,
) -> list[Item]:
    """Items newest first (`cbewatch items`)."""
    return store.items.find(status=status, source=source, since=since, month=month)


def queue_page(
    store: Store,
    query: QueueQuery,
    after: QueueCursor | None,
    limit: int,
    sections: Sequence[str] = (),
) -> QueuePage:
    items, cursor = store.queue.page(query, after, limit)
    total = store.queue.count(query, COUNT_CAP + 1)
    month = query.month or utc_now().strftime("%Y-%m")
    counts = month_sections(store, sections, month)
    return QueuePage(items, cursor, store.queue.choices(), total, month, counts)


def month_sections(store: Store, sections: Sequence[str], month: str) -> list[tuple[str, int]]:
    """Items of `month` accepted into each section, in the config's order: the queue's
    header, so curators see which sections are thin."""
    counts = store.queue.accepted_by_topic(month)
    return [(section, counts.get(section, 0)) for section in sections]


def item_page(store: Store, item_id: int) -> ItemPage:
    """An item with its history; NoSuchItem when there is none."""
    item = store.items.get(item_id)
    if item is None:
        raise NoSuchItem(f"there is no item {item_id}")
    return ItemPage(item, store.decisions.audit_log(item_id))


def triage(
    store: Store,
    item_id: int,
    decision: str,
    topic: str | None = None,
    blurb: str | None = None,
    who: str = "cli",
    topics: Sequence[str] = (),
) -> Item:
    """Accept or reject an item from a shell and return it as stored.

    `decision` is "accept" or "reject". An accepted item goes to the curator's `topic`,
    else to the suggested one: the curator's choice always wins. `topics`, when given,
    are the config's section names and `topic` must be one of them. A decision without
    a blurb keeps the one written before.
    """
    status = _status(decision)
    item = store.items.get(item_id)
    if item is None:
        raise TriageError(f"there is no item {item_id}")
    _check_topic(topic, topics)
    changes = decision_changes(item, status, topic)
    if blurb is not None:
        changes["blurb"] = blurb
    return store.decisions.set(item_id, changes, who, action="triage")


def act(
    store: Store,
    item_id: int,
    action: str,
    who: str,
    version: int | None = None,
    topic: str = "",
    blurb: str = "",
    topics: Sequence[str] = (),
) -> Item:
    """One of the queue's ACTIONS on an item the curator saw at `version` (None: any).
    Raises NoSuchItem, TriageError (a wrong action or value: say it to the curator),
    VersionConflict (someone changed it meanwhile) or NothingToUndo."""
    item = store.items.get(item_id)
    if item is None:
        raise NoSuchItem(f"there is no item {item_id}")
    if action == "undo":
        return store.decisions.undo(item_id, who, version)
    changes = action_changes(item, action, topic, blurb, topics)
    return store.decisions.set(item_id, changes, who, version, action)


def action_changes(
    item: Item, action: str, topic: str, blurb: str, topics: Sequence[str]
) -> Changes:
    """What a queue action (not undo) changes on an item; TriageError, in a sentence
    for the curator, when it is wrong. Accept and reject follow `decision_changes`."""
    if action in DECISIONS:
        try:
            return decision_changes(item, DECISIONS[action])
        except TriageError as exc:
            raise TriageError(f"{str(exc)[:1].upper()}{str(exc)[1:]}.") from None
    if action == "reopen":
        return {"status": "new"}
    if action == "topic":
        if topic and topic not in topics:
            raise TriageError(f"{topic!r} is not one of the newsletter's topics.")
        return {"topic": topic or None}
    if action == "blurb":
        blurb = blurb.strip()
        if len(blurb) > BLURB_MAX:
            raise TriageError(f"A blurb has at most {BLURB_MAX} characters.")
        return {"blurb": blurb or None}
    raise TriageError(f"Unknown action; use one of {', '.join(ACTIONS)}.")


def decision_changes(item: Item, status: str, topic: str | None = None) -> Changes:
    """What accepting or rejecting `item` changes: a duplicate is not decided (its
    primary is), and an accepted item without a topic takes the suggested one (a topic
    the curator chose always wins)."""
    if item.status == "duplicate":
        raise TriageError(
            f"item {item.id} is a duplicate of item {item.duplicate_of}; decide that one"
        )
    changes: Changes = {"status": status}
    if topic:
        changes["topic"] = topic
    elif status == "accepted" and not item.topic and item.suggested_topic:
        changes["topic"] = item.suggested_topic
    return changes


def _status(decision: str) -> str:
    if decision in DECISIONS.values():
        return decision
    if decision not in DECISIONS:
        raise TriageError(f"a decision is accept or reject, not {decision!r}")
    return DECISIONS[decision]


def _check_topic(topic: str | None, topics: Sequence[str]) -> None:
    if topic is not None and topics and topic not in topics:
        raise TriageError(f"no topic {topic!r} in the config; topics are: {', '.join(topics)}")

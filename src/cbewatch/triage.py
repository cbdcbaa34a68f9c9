"""The curators' decision on one item: accept (with a section and a blurb) or reject.

`cbewatch triage` decides through here, and both it and the web queue write through
`Store.set_decision` (version bump and audit row in one transaction). It never retrains
ranking (the next `rank` or `fetch` does, seeing the decisions changed).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from .errors import CbewatchError
from .store import Store

DECISIONS = {"accept": "accepted", "reject": "rejected"}


class TriageError(CbewatchError):
    """A decision that cannot be taken: unknown item, a duplicate, an unknown topic."""


def decide_item(
    store: Store,
    item_id: int,
    decision: str,
    topic: str | None = None,
    blurb: str | None = None,
    who: str = "cli",
    topics: Sequence[str] = (),
) -> dict[str, Any]:
    """Accept or reject an item and return it as stored.

    `decision` is "accept" or "reject". An accepted item goes to the curator's `topic`,
    else to the suggested one: the curator's choice always wins. `topics`, when given,
    are the config's section names and `topic` must be one of them.
    """
    status = _status(decision)
    item = store.item(item_id)
    if item is None:
        raise TriageError(f"there is no item {item_id}")
    _check_topic(topic, topics)
    changes = decision_changes(item, status, topic)
    if blurb is not None:  # a decision without a blurb keeps the one written before
        changes["blurb"] = blurb
    store.set_decision(item_id, changes, who, action="triage")
    decided = store.item(item_id)
    assert decided is not None  # it was there a moment ago and items are never deleted
    return decided


def decision_changes(item: dict[str, Any], status: str, topic: str | None = None) -> dict[str, Any]:
    """What accepting or rejecting `item` changes, by the rules the CLI and the web queue
    share: a duplicate is not decided (its primary is), and an accepted item without a
    topic takes the suggested one (a topic the curator chose always wins)."""
    if item["status"] == "duplicate":
        raise TriageError(
            f"item {item['id']} is a duplicate of item {item['duplicate_of']}; decide that one"
        )
    changes: dict[str, Any] = {"status": status}
    if topic:
        changes["topic"] = topic
    elif status == "accepted" and not item["topic"] and item["suggested_topic"]:
        changes["topic"] = item["suggested_topic"]
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

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
    if item["status"] == "duplicate":
        raise TriageError(
            f"item {item_id} is a duplicate of item {item['duplicate_of']}; decide that one"
        )
    _check_topic(topic, topics)
    chosen = topic or (item["topic"] or item["suggested_topic"] if status == "accepted" else None)
    changes = {"status": status, "topic": chosen}
    if blurb is not None:  # a decision without a blurb keeps the one written before
        changes["blurb"] = blurb
    store.set_decision(item_id, changes, who, action="triage")  # the web queue's path too
    decided = store.item(item_id)
    assert decided is not None  # it was there a moment ago and items are never deleted
    return decided


def _status(decision: str) -> str:
    if decision in DECISIONS.values():
        return decision
    if decision not in DECISIONS:
        raise TriageError(f"a decision is accept or reject, not {decision!r}")
    return DECISIONS[decision]


def _check_topic(topic: str | None, topics: Sequence[str]) -> None:
    if topic is not None and topics and topic not in topics:
        raise TriageError(f"no topic {topic!r} in the config; topics are: {', '.join(topics)}")

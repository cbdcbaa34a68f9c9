"""What ranking reads and answers: plain frozen values, so that every other module of
ranking stays a function of its inputs. Never holds a store row or a model.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class RankInput:
    """What ranking reads of an item: extracted `text` may be empty."""

    id: int
    title: str = ""
    description: str = ""
    text: str = ""
    source: str = ""


@dataclass(frozen=True)
class Decision:
    item: RankInput
    accepted: bool
    topic: str | None = None


@dataclass(frozen=True)
class Ranking:
    id: int
    score: float
    suggested_topic: str | None
    why: str

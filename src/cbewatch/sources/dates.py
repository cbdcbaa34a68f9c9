"""Dates as feeds and sitemaps write them, read into aware UTC datetimes.

Pure and total: an unreadable or out-of-range date is None, never an exception.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any


def as_utc(moment: datetime) -> datetime | None:
    """`moment` in UTC (no zone means UTC); None when it falls outside datetime's range."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    try:
        return moment.astimezone(UTC)
    except (OverflowError, ValueError):
        return None


def iso_datetime(value: Any) -> datetime | None:
    """An ISO 8601 string as aware UTC; None when unreadable."""
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return as_utc(parsed)

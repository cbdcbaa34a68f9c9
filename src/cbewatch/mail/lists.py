"""Subscriber lists as CSV files: reading another tool's export (its header found by
name, its bad rows reported by line and skipped, its repeated addresses merged) and
writing ours. Pure: text in, rows out; never touches the store.

Never writes a cell that a spreadsheet would run as a formula: a name that starts with
= + - @ (a public form filled it) is written after a ' (and read back without it).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TextIO

from ..errors import SubscriberError
from ..model.types import Subscriber
from .addresses import clean_name, normalize_address

EXPORT_COLUMNS = ("email", "name", "status", "created", "confirmed", "unsubscribed")
EMAIL_HEADERS = {"email", "e-mail", "email address", "e-mail address", "address", "mail",
                 "email_address", "emailaddress", "mail address"}  # fmt: skip
NAME_HEADERS = {"name", "full name", "full_name", "fullname", "display name"}
FIRST_NAME_HEADERS = {"first name", "first_name", "firstname", "given name"}
LAST_NAME_HEADERS = {"last name", "last_name", "lastname", "surname", "family name"}
_FORMULA_START = ("=", "+", "-", "@")


@dataclass(frozen=True)
class ListRow:
    line: int  # where the row starts in the file (1 is the first line)
    email: str  # normalized
    name: str


@dataclass
class ReadList:
    """A file read: its good rows (each address once), how many rows repeated an address
    already read (`duplicates`), and one sentence per bad row (`problems`)."""

    rows: list[ListRow] = field(default_factory=list)
    duplicates: int = 0
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class _Columns:
    email: int
    name: int | None = None
    first: int | None = None
    last: int | None = None


def read_list(text: str) -> ReadList:
    """The rows of a CSV list. A header row is recognised by its column names (email,
    e-mail, address, …; name, or first and last name); without one the first column is
    the address and the second, if any, the name. SubscriberError when the file has rows
    but none of its columns holds addresses."""
    text = text.lstrip("\ufeff")
    reader = csv.reader(io.StringIO(text, newline=""), dialect=_dialect(text))
    result = ReadList()
    seen: set[str] = set()
    columns: _Columns | None = None
    line = 1  # the line the next row starts on
    try:
        for cells in reader:
            start, line = line, reader.line_num + 1
            if not any(cell.strip() for cell in cells):
                continue
            if columns is None:
                columns = _header(cells)
                if columns is not None:
                    continue
                if "@" not in cells[0]:
                    raise SubscriberError(
                        f"line {start}: no column of this file is named email, e-mail or "
                        "address, and its first column holds no address"
                    )
                columns = _Columns(email=0, name=1 if len(cells) > 1 else None)
            _add_row(result, seen, columns, cells, start)
    except csv.Error as exc:
        raise SubscriberError(f"line {line}: the file cannot be read as CSV ({exc})") from None
    return result


def _add_row(
    result: ReadList, seen: set[str], columns: _Columns, cells: list[str], start: int
) -> None:
    raw = _cell(cells, columns.email)
    try:
        email = normalize_address(raw)
    except SubscriberError as exc:
        result.problems.append(f"line {start}: {_lower_first(str(exc))}")
        return
    if email in seen:
        result.duplicates += 1
        return
    seen.add(email)
    if columns.name is not None:
        name = _cell(cells, columns.name)
    else:
        name = " ".join(filter(None, (_cell(cells, columns.first), _cell(cells, columns.last))))
    result.rows.append(ListRow(start, email, clean_name(_unguarded(name))))


def _dialect(text: str) -> type[csv.Dialect] | csv.Dialect:
    """Commas, or the semicolons and tabs some spreadsheets write."""
    try:
        return csv.Sniffer().sniff(text[:4096], delimiters=",;\t")
    except csv.Error:
        return csv.excel


def _header(cells: list[str]) -> _Columns | None:
    names = [" ".join(c.strip().lower().split()) for c in cells]

    def find(wanted: set[str]) -> int | None:
        return next((i for i, n in enumerate(names) if n in wanted), None)

    email = find(EMAIL_HEADERS)
    if email is None:
        return None
    return _Columns(email, find(NAME_HEADERS), find(FIRST_NAME_HEADERS), find(LAST_NAME_HEADERS))


def _cell(cells: list[str], index: int | None) -> str:
    return cells[index].strip() if index is not None and index < len(cells) else ""


def _lower_first(text: str) -> str:
    return text[:1].lower() + text[1:]


def write_list(subscribers: Iterable[Subscriber], out: TextIO) -> int:
    """Our export: a header and one row per subscriber, EXPORT_COLUMNS exactly."""
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(EXPORT_COLUMNS)
    count = 0
    for s in subscribers:
        dates = [s.created, s.confirmed or "", s.unsubscribed or ""]
        writer.writerow([s.email, _guarded(s.name), s.status, *dates])
        count += 1
    return count


def _guarded(name: str) -> str:
    return "'" + name if name.startswith(_FORMULA_START) else name


def _unguarded(name: str) -> str:
    return name[1:] if name.startswith("'") and name[1:].startswith(_FORMULA_START) else name

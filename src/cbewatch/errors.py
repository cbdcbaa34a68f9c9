"""The one error tree. Every error a user can see is a CbewatchError whose str() is one
plain sentence naming the culprit (a file and line, a URL, a source, a recipient).

    CbewatchError
    ├── ConfigError          sources.yaml is wrong: file, line, key
    ├── StoreError           the database cannot be opened or upgraded, or refused a change
    │   ├── NoSuchItem       the item asked for does not exist
    │   ├── NothingToUndo    undo on an item nobody has decided on
    │   ├── VersionConflict  someone changed the item after the curator saw it
    │   └── IssueConflict    someone changed the issue after the curator saw it
    ├── TriageError          a decision that cannot be taken (a duplicate, an unknown topic)
    ├── AccountError         a user name or password that cannot be used
    ├── IssueError           an issue that cannot be changed so (frozen, unknown, a bad edit)
    ├── SubscriberError      an address that is not one, a list file that cannot be read
    ├── DeliveryError        an email that could not be sent: recipient, reason
    ├── SendError            a send to the list that cannot start or go on (not approved,
    │                        another send running, the SMTP server unusable)
    └── SourceError          one URL went wrong: url, reason
        ├── ParseError       a fetched body could not be read as its kind
        └── FetchError       a URL could not be had
            ├── BlockedURL       scheme or address not allowed (private, loopback, file:, …)
            ├── TooLarge         body over the byte cap
            ├── FetchTimeout     connect/read timeout or the wall-clock deadline
            ├── TooManyRedirects redirect cap hit or a loop
            └── HTTPStatusError  the server answered 4xx/5xx: status, retry_after
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


class CbewatchError(Exception):
    """Root of every error cbewatch reports to a user."""


@dataclass(frozen=True)
class ConfigProblem:
    file: str
    line: int
    key: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.message}" if self.key else f"{where}: {self.message}"


class ConfigError(CbewatchError):
    """One or more problems in the config file; str() gives one line per problem."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))

    def __reduce__(self) -> tuple:
        return type(self), (self.problems,)


class StoreError(CbewatchError):
    """The database cannot be opened, locked or upgraded, or refused a change."""


class NoSuchItem(StoreError):
    """The item asked for does not exist."""


class NothingToUndo(StoreError):
    """Undo on an item nobody has decided on."""


class VersionConflict(StoreError):
    """Someone changed the item after the curator saw it: `current` is the item as it is
    now, `last_change` the audit entry of the latest change (None if there is none)."""

    def __init__(self, item_id: int, current: Any, last_change: Any = None) -> None:
        self.item_id = item_id
        self.current = current
        self.last_change = last_change
        who = f" by {last_change.who}" if last_change is not None else ""
        super().__init__(
            f"Item {item_id} was changed{who} after you opened it, so your change was not saved."
        )


class IssueConflict(StoreError):
    """Someone changed the issue after the curator saw it: `current` is how it is now."""

    def __init__(self, current: Any) -> None:
        self.current = current
        super().__init__(
            f"The {current.month} issue was changed after you opened it, so your change was "
            "not saved; here it is as it is now."
        )


class TriageError(CbewatchError):
    """A decision that cannot be taken: unknown item, a duplicate, an unknown topic."""


class AccountError(CbewatchError):
    """A user name or password that cannot be used."""


class IssueError(CbewatchError):
    """An issue that cannot be made or changed so: an unknown month or section, an edit
    to a frozen revision, an item already in another issue."""


class SubscriberError(CbewatchError):
    """An address that is not an email address, or a subscriber list file that cannot be
    read; str() says which and why in one sentence."""


class DeliveryError(CbewatchError):
    """An email that could not be sent; `recipient` and a plain `reason`."""

    def __init__(self, recipient: str, reason: str) -> None:
        self.recipient = recipient
        self.reason = reason
        super().__init__(f"{recipient}: {reason}")

    def __reduce__(self) -> tuple:
        return type(self), (self.recipient, self.reason)


class SendError(CbewatchError):
    """A send to the whole list that cannot start or go on: the issue is not approved,
    another send runs, the SMTP server is unreachable or refuses the login."""


class SourceError(CbewatchError):
    """Something about one URL went wrong; `reason` is a plain sentence fragment."""

    def __init__(self, url: str, reason: str) -> None:
        self.url = url
        self.reason = reason
        super().__init__(f"{url}: {reason}")

    def __reduce__(self) -> tuple:  # parsers run in worker processes: errors travel back
        return type(self), (self.url, self.reason)


class ParseError(SourceError):
    """A fetched body could not be read as a feed, list page or sitemap."""


class FetchError(SourceError):
    """A URL could not be fetched."""


class BlockedURL(FetchError):
    """The URL's scheme or resolved address is not allowed."""


class TooLarge(FetchError):
    """The body went over the byte cap."""


class FetchTimeout(FetchError):
    """A timeout or the per-request wall-clock deadline was hit."""


class TooManyRedirects(FetchError):
    """More redirects than allowed, or a loop."""


class HTTPStatusError(FetchError):
    """The server answered with an error status."""

    def __init__(self, url: str, status: int, retry_after: float | None = None) -> None:
        self.status = status
        self.retry_after = retry_after
        super().__init__(url, f"HTTP {status}")

    def __reduce__(self) -> tuple:
        return type(self), (self.url, self.status, self.retry_after)

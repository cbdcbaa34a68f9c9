"""The one error tree. Every error a user can see is a CbewatchError whose str() is one
plain sentence naming the culprit (a file and line, a URL, a source, a recipient).

    CbewatchError
    ├── ConfigError          sources.yaml is wrong: file, line, key
    ├── StoreError           the database cannot be opened or upgraded
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
    """The database cannot be opened, locked or upgraded."""


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

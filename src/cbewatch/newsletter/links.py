"""The link check before approval: every distinct link of an issue fetched through the one
HTTP client, a few at a time, and each broken, slow, looping or off-site link reported as
the URL and one plain sentence. It never fetches anything but through `HttpClient`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http import HTTPStatus
from urllib.parse import urlsplit

from markdown_it import MarkdownIt

from ..config import Network
from ..errors import (
    BlockedURL,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooLarge,
    TooManyRedirects,
)
from ..http import HttpClient
from ..model.types import Issue

# Links checked at once. An issue has a few dozen links; four keeps the check to seconds
# without hammering one organization's site (the client's per-host limit applies too).
LINK_CONCURRENCY = 4

# The same link syntax the blurbs are written in: inline links, <autolinks> and backslash
# escapes (the importer writes a literal "[" as "\["). Parsing with markdown-it rather
# than a regex gets escapes, nested brackets and parentheses inside URLs right, and yields
# the href exactly as markdown-it renders it.
_MARKDOWN = MarkdownIt("zero").enable(["link", "autolink", "escape"])

# Statuses a site gives automated clients it refuses; the page may well be fine.
_REFUSING = {401, 403, 429}


@dataclass(frozen=True)
class LinkProblem:
    """A link that should not go out as it is: the URL, and one plain sentence."""

    url: str
    message: str

    def __str__(self) -> str:
        return f"{self.url}: {self.message}"


def markdown_links(text: str) -> list[str]:
    """The http(s) targets of the Markdown links in `text`, in order."""
    found: list[str] = []
    for block in _MARKDOWN.parseInline(text or ""):
        for token in block.children or ():
            href = str(token.attrs.get("href", "")) if token.type == "link_open" else ""
            if urlsplit(href).scheme.lower() in ("http", "https"):
                found.append(href)
    return found


def links_of(issue: Issue) -> list[str]:
    """Every distinct http(s) link of `issue` in reading order: the intro's, then each
    entry's URL and its blurb's links, then the closing's. Imported entries without a
    link (a `urn:` key) have nothing to check."""
    links = markdown_links(issue.intro)
    for entry in issue.entries:
        if urlsplit(entry.url).scheme.lower() in ("http", "https"):
            links.append(entry.url)
        links.extend(markdown_links(entry.blurb))
    links.extend(markdown_links(issue.closing))
    return list(dict.fromkeys(links))


def site_of(url: str) -> str:
    """The host a reader would call "the site": lower-case, without `www.` or a final dot.
    (No public-suffix list: see `same_site` for how subdomains count.)"""
    host = (urlsplit(url).hostname or "").lower().rstrip(".")
    return host.removeprefix("www.")


def same_site(original: str, final: str, site: Callable[[str], str] = site_of) -> bool:
    """Whether a redirect from `original` to `final` stays on one site: the same host, or
    one host a subdomain of the other (example.org → blog.example.org), which shares its
    registrable domain. Sibling subdomains (a.example.org → b.example.org) count as two
    sites: without a public-suffix list they cannot be told from two github.io sites."""
    a, b = site(original), site(final)
    return a == b or a.endswith("." + b) or b.endswith("." + a)


async def check_links(
    urls: Iterable[str],
    client: HttpClient,
    *,
    concurrency: int = LINK_CONCURRENCY,
    site: Callable[[str], str] = site_of,
) -> list[LinkProblem]:
    """Fetch each distinct URL once through `client`, at most `concurrency` at a time;
    the problems in the order of `urls`. Each fetch is bounded by the client's own
    timeouts and deadline, so the whole check takes at most about
    len(urls) / concurrency × (deadline × hops)."""
    distinct = list(dict.fromkeys(urls))
    slots = asyncio.Semaphore(max(1, concurrency))

    async def one(url: str) -> LinkProblem | None:
        async with slots:
            return await _check(url, client, site)

    results = await asyncio.gather(*(one(url) for url in distinct))
    return [problem for problem in results if problem is not None]


def run_link_check(
    urls: Iterable[str],
    network: Network,
    user_agent: str,
    *,
    concurrency: int = LINK_CONCURRENCY,
) -> list[LinkProblem]:
    """`check_links` from synchronous code (the CLI, a web worker thread): its own client
    and event loop. Never call it from inside a running event loop."""

    async def run() -> list[LinkProblem]:
        async with HttpClient(network, user_agent) as client:
            return await check_links(urls, client, concurrency=concurrency)

    return asyncio.run(run())


async def _check(url: str, client: HttpClient, site: Callable[[str], str]) -> LinkProblem | None:
    try:
        fetched = await client.get(url)
    except HTTPStatusError as exc:
        return LinkProblem(url, _status_sentence(url, exc))
    except FetchTimeout as exc:
        return LinkProblem(url, f"The page did not answer in time ({exc.reason}).")
    except TooManyRedirects as exc:
        return LinkProblem(url, f"The link never arrives at a page ({exc.reason}).")
    except TooLarge as exc:
        # A big report is still a good link; the error names the last hop, so the
        # redirect rules below can still be applied to where the link ended.
        return _landing_problem(url, exc.url, site)
    except BlockedURL as exc:
        return LinkProblem(url, f"The link cannot be checked ({exc.reason}).")
    except FetchError as exc:
        return LinkProblem(url, f"The page could not be fetched ({exc.reason}).")
    return _landing_problem(url, fetched.url, site)


def _landing_problem(url: str, final: str, site: Callable[[str], str]) -> LinkProblem | None:
    if not same_site(url, final, site):
        return LinkProblem(url, f"The link redirects to another site, ending at {final}.")
    if _path(url) != "/" and _path(final) == "/" and not urlsplit(final).query:
        # A deep link sent to the home page is how many sites answer for a removed page.
        return LinkProblem(
            url, f"The link redirects to the site's home page ({final}); the page may be gone."
        )
    return None


def _path(url: str) -> str:
    return urlsplit(url).path or "/"


def _status_sentence(url: str, exc: HTTPStatusError) -> str:
    try:
        name = f"{exc.status} {HTTPStatus(exc.status).phrase}"
    except ValueError:
        name = f"HTTP {exc.status}"
    where = "" if exc.url == url else f" at {exc.url}"
    if exc.status in _REFUSING:
        return (
            f"The site answered {name}{where}; it may refuse automated checks, "
            "so open the link in a browser to confirm."
        )
    if exc.status >= 500:
        return f"The site answered {name}{where}, a fault on its side."
    return f"The page answered {name}{where}."

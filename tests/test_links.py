"""The link check before approval, against real servers on loopback: broken, slow,
looping and off-site links are reported; good links and same-site redirects are not."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from cbewatch.config import Network
from cbewatch.demo.server import Route, SiteServer
from cbewatch.http import HttpClient
from cbewatch.model.types import Issue, IssueEntry, IssueSection
from cbewatch.newsletter.links import (
    LinkProblem,
    check_links,
    links_of,
    markdown_links,
    run_link_check,
    same_site,
)

UA = "cbewatch-test/1.0"


def allowing(*servers: SiteServer, **limits: float) -> Network:
    return Network(allow_hosts=tuple(s.host_port for s in servers), **limits)


def moved(location: str, status: int = 301) -> Route:
    return Route(status=status, headers={"Location": location})


@pytest.fixture
def elsewhere() -> Iterator[SiteServer]:
    """A second site on another loopback address: another host, so another site."""
    with SiteServer(host="127.0.0.2") as server:
        yield server


def problems_by_url(problems: list[LinkProblem]) -> dict[str, str]:
    return {p.url: p.message for p in problems}


# -- against servers ---------------------------------------------------------------------


def test_each_kind_of_bad_link_is_reported_and_good_ones_are_not(
    site: SiteServer, elsewhere: SiteServer
) -> None:
    ok = site.add("/ok", Route("fine"))
    missing = site.url("/missing")  # the server answers 404 for unknown paths
    broken = site.add("/broken", Route("oops", status=500))
    slow = site.add("/slow", Route("late", delay=1.0))
    away = site.add("/away", moved(elsewhere.url("/landing")))
    elsewhere.add("/landing", Route("another site"))
    renamed = site.add("/old-name", moved("/new-name"))
    site.add("/new-name", Route("same site"))
    slashed = site.add("/report", moved(site.url("/report/"), 308))
    site.add("/report/", Route("same site, with a slash"))
    site.add("/a", moved("/b"))
    site.add("/b", moved("/a"))
    loop = site.url("/a")

    urls = [ok, missing, broken, slow, away, renamed, slashed, loop, ok]
    start = time.monotonic()
    problems = run_link_check(urls, allowing(site, elsewhere, read_timeout=0.3), UA)
    assert time.monotonic() - start < 3

    assert [p.url for p in problems] == [missing, broken, slow, away, loop]  # in input order
    found = problems_by_url(problems)
    assert found[missing] == "The page answered 404 Not Found."
    assert found[broken] == "The site answered 500 Internal Server Error, a fault on its side."
    assert found[slow] == "The page did not answer in time (no data for 0.3 s)."
    assert found[away] == (
        f"The link redirects to another site, ending at {elsewhere.url('/landing')}."
    )
    assert found[loop].startswith("The link never arrives at a page (redirect loop")
    assert len(site.hits_for("/ok")) == 1  # a link listed twice is fetched once


def test_a_404_behind_a_redirect_names_where_it_ended(site: SiteServer) -> None:
    url = site.add("/moved", moved("/gone"))
    [problem] = run_link_check([url], allowing(site), UA)
    assert problem.message == f"The page answered 404 Not Found at {site.url('/gone')}."


def test_refusals_say_the_page_may_still_be_fine(site: SiteServer) -> None:
    url = site.add("/guarded", Route("no robots", status=403))
    [problem] = run_link_check([url], allowing(site), UA)
    assert problem.message.startswith("The site answered 403 Forbidden; it may refuse")


def test_a_deep_link_sent_to_the_home_page_is_reported(site: SiteServer) -> None:
    url = site.add("/2026/03/removed-post", moved("/"))
    site.add("/", Route("home"))
    [problem] = run_link_check([url], allowing(site), UA)
    assert "redirects to the site's home page" in problem.message


def test_a_large_page_is_fine_and_a_refused_connection_is_not(site: SiteServer) -> None:
    big = site.add("/report.pdf", Route(b"%PDF" + b"x" * 5000, content_type="application/pdf"))
    with SiteServer() as gone:
        closed = gone.url("/")
        network = allowing(site, gone, max_bytes=1000)
    problems = run_link_check([big, closed], network, UA)
    assert problems == [LinkProblem(closed, "The page could not be fetched (connection refused).")]


def test_a_private_address_is_reported_not_fetched(elsewhere: SiteServer) -> None:
    url = elsewhere.add("/internal", Route("secret"))
    [problem] = run_link_check([url], Network(), UA)
    assert problem.message == (
        "The link cannot be checked (address 127.0.0.2 is loopback and not allowed)."
    )
    assert elsewhere.hits == []


def test_only_a_few_links_are_fetched_at_once(site: SiteServer) -> None:
    with ExitStack() as stack:
        # Four hosts, so the client's per-host limit is not what holds the check back.
        others = [stack.enter_context(SiteServer(host=f"127.0.0.{n}")) for n in (3, 4, 5)]
        servers = (site, *others)
        urls = [s.add("/slow", Route("ok", delay=0.4)) for s in servers]

        async def timed(concurrency: int) -> float:
            async with HttpClient(allowing(*servers), UA) as client:
                start = time.monotonic()
                assert await check_links(urls, client, concurrency=concurrency) == []
                return time.monotonic() - start

        assert asyncio.run(timed(2)) >= 0.75  # two rounds
        assert asyncio.run(timed(4)) < 0.75  # one round


# -- which links an issue has --------------------------------------------------------------


def test_links_of_an_issue_in_reading_order_each_once() -> None:
    issue = Issue(
        month="2026-03",
        title="March",
        intro="Read [last month](https://example.org/feb) first.",
        closing="[Subscribe](https://example.org/subscribe) or [write](mailto:ed@example.org).",
        sections=(
            IssueSection(
                "Grading",
                (
                    IssueEntry(
                        "https://alder.example.org/a",
                        "A",
                        "Alder",
                        "From [Alder](https://alder.example.org/) and "
                        "[the pilot](https://alder.example.org/a).",
                    ),
                    IssueEntry("urn:cbewatch:import:2026-03:2", "B", "", "No link survived."),
                ),
            ),
            IssueSection(
                "Policy",
                (
                    IssueEntry(
                        "https://elm.example.org/scan",
                        "C",
                        "Elm",
                        "See <https://elm.example.org/data> and [a wiki](https://w.example.org/A_(b)).",
                    ),
                ),
            ),
        ),
    )
    assert links_of(issue) == [
        "https://example.org/feb",
        "https://alder.example.org/a",
        "https://alder.example.org/",
        "https://elm.example.org/scan",
        "https://elm.example.org/data",
        "https://w.example.org/A_(b)",
        "https://example.org/subscribe",
    ]


@pytest.mark.parametrize(
    ("text", "links"),
    [
        ("", []),
        ("no links, just https://bare.example.org", []),
        (r"an escaped \[not](https://x.example.org) link", []),
        ("[js](javascript:alert(1)) and [ftp](ftp://x.example.org/)", []),
        ("[a](https://x.example.org/a) [b](http://y.example.org/b)", [
            "https://x.example.org/a", "http://y.example.org/b"]),
    ],
)  # fmt: skip
def test_markdown_links(text: str, links: list[str]) -> None:
    assert markdown_links(text) == links


@pytest.mark.parametrize(
    ("original", "final", "same"),
    [
        ("http://example.org/a", "https://example.org/a", True),
        ("https://Example.org/a", "https://www.example.org/a/", True),
        ("https://www.example.org./a", "https://EXAMPLE.ORG/a", True),
        ("https://example.org/a", "https://blog.example.org/a", True),
        ("https://news.example.org/a", "https://example.org/a", True),
        ("https://a.example.org/x", "https://b.example.org/x", False),
        ("https://example.org/a", "https://example.com/a", False),
        ("https://example.org/a", "https://notexample.org/a", False),
        ("http://127.0.0.1:8000/a", "http://127.0.0.2:8000/a", False),
    ],
)
def test_same_site(original: str, final: str, same: bool) -> None:
    assert same_site(original, final) is same

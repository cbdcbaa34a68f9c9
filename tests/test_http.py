"""The outbound client against real servers on loopback: limits, guards, errors."""

from __future__ import annotations

import asyncio
import gzip
import ipaddress
import re
import time
import zlib
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest

from cbewatch.config import Network
from cbewatch.demo.server import Route, SiteServer
from cbewatch.errors import (
    BlockedURL,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooLarge,
    TooManyRedirects,
)
from cbewatch.http import Fetched, HttpClient, check_url, is_public_ip, parse_retry_after

UA = "cbewatch-test/1.0"


def allowing(*servers: SiteServer, **limits: float) -> Network:
    return Network(allow_hosts=tuple(s.host_port for s in servers), **limits)


def fetch(network: Network, url: str, **options: str) -> Fetched:
    async def run() -> Fetched:
        async with HttpClient(network, UA) as client:
            return await client.get(url, **options)

    return asyncio.run(run())


def fetch_many(network: Network, urls: list[str]) -> float:
    """Fetch `urls` concurrently with one client; return the elapsed seconds."""

    async def run() -> None:
        async with HttpClient(network, UA) as client:
            await asyncio.gather(*(client.get(u) for u in urls))

    start = time.monotonic()
    asyncio.run(run())
    return time.monotonic() - start


@pytest.fixture
def other() -> Iterator[SiteServer]:
    """A second loopback site on 127.0.0.2, a different address the client must not reach."""
    with SiteServer(host="127.0.0.2") as server:
        server.add("/secret", Route("internal only"))
        yield server


# -- plain and conditional GETs ----------------------------------------------------------


def test_plain_get_sends_user_agent_and_returns_the_body(site: SiteServer) -> None:
    url = site.add("/feed", Route("<rss/>", content_type="application/rss+xml; charset=UTF-8"))
    got = fetch(allowing(site), url, accept="application/rss+xml")
    assert (got.status, got.body, got.url) == (200, b"<rss/>", url)
    assert (got.content_type, got.charset) == ("application/rss+xml", "utf-8")
    assert not got.not_modified
    [hit] = site.hits_for("/feed")
    assert hit.headers["user-agent"] == UA
    assert hit.headers["accept"] == "application/rss+xml"


def test_conditional_get_with_etag_gives_304(site: SiteServer) -> None:
    url = site.add("/feed", Route("<rss/>", etag='"v1"'))
    first = fetch(allowing(site), url)
    assert first.etag == '"v1"'
    again = fetch(allowing(site), url, etag=first.etag)
    assert (again.status, again.not_modified, again.body) == (304, True, b"")
    assert site.hits_for("/feed")[1].headers["if-none-match"] == '"v1"'


def test_conditional_get_with_last_modified_gives_304(site: SiteServer) -> None:
    stamp = "Mon, 03 Jun 2024 10:00:00 GMT"
    url = site.add("/feed", Route("<rss/>", last_modified=stamp))
    assert fetch(allowing(site), url).last_modified == stamp
    assert fetch(allowing(site), url, last_modified=stamp).not_modified


@pytest.mark.parametrize("encoding", ["gzip", "deflate", "raw-deflate"])
def test_compressed_bodies_are_decoded(site: SiteServer, encoding: str) -> None:
    text = b"competency-based education " * 1000
    wbits = {"gzip": 31, "deflate": 15, "raw-deflate": -15}[encoding]
    packer = zlib.compressobj(wbits=wbits)
    header = "deflate" if encoding == "raw-deflate" else encoding
    route = Route(packer.compress(text) + packer.flush(), headers={"Content-Encoding": header})
    assert fetch(allowing(site), site.add("/z", route)).body == text


def test_unknown_content_encoding_is_a_fetch_error(site: SiteServer) -> None:
    url = site.add("/br", Route(b"\x0b\x02", headers={"Content-Encoding": "br"}))
    with pytest.raises(FetchError, match="unsupported content encoding 'br'"):
        fetch(allowing(site), url)


# -- deadline and size caps --------------------------------------------------------------


def test_a_dripping_server_is_cut_at_the_deadline(site: SiteServer) -> None:
    url = site.add("/drip", Route(b"x" * 20, drip=1.0))  # would take 20 s
    start = time.monotonic()
    with pytest.raises(FetchTimeout, match=re.escape("took longer than 1.5 s")):
        fetch(allowing(site, deadline=1.5), url)
    assert time.monotonic() - start < 3


def test_a_slow_first_byte_hits_the_read_timeout(site: SiteServer) -> None:
    url = site.add("/slow", Route("late", delay=1.0))
    with pytest.raises(FetchTimeout, match=re.escape("no data for 0.3 s")):
        fetch(allowing(site, read_timeout=0.3), url)


def test_a_declared_body_over_the_cap_is_refused(site: SiteServer) -> None:
    url = site.add("/big", Route(b"x" * 30_000_000))
    start = time.monotonic()
    with pytest.raises(TooLarge, match="body larger than 10 MB"):
        fetch(allowing(site), url)
    assert time.monotonic() - start < 2


def test_a_body_at_the_cap_is_fine(site: SiteServer) -> None:
    url = site.add("/exact", Route(b"x" * 1000))
    assert len(fetch(allowing(site, max_bytes=1000), url).body) == 1000


def gzip_bomb(expanded: int) -> bytes:
    """A valid gzip stream of `expanded` zero bytes, built in well under a second.

    Each 16 MB block is compressed after a full flush, so its compressed form does not
    depend on what came before and can be repeated as is.
    """
    block = bytes(16 << 20)
    packer = zlib.compressobj(9, zlib.DEFLATED, 31)
    head = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    repeat = packer.compress(block) + packer.flush(zlib.Z_FULL_FLUSH)
    count = expanded // len(block)
    tail = packer.flush()[:-8]  # the final empty block; the trailer is rebuilt below
    crc = 0
    for _ in range(count):
        crc = zlib.crc32(block, crc)
    trailer = crc.to_bytes(4, "little") + (expanded % 2**32).to_bytes(4, "little")
    return head + repeat * (count - 1) + tail + trailer


def test_a_gzip_bomb_stops_at_the_cap_quickly(site: SiteServer) -> None:
    bomb = gzip_bomb(1 << 30)
    assert len(bomb) < 2_000_000
    assert len(gzip.decompress(gzip_bomb(64 << 20))) == 64 << 20  # the builder is sound
    url = site.add("/bomb", Route(bomb, headers={"Content-Encoding": "gzip"}))
    start = time.monotonic()
    with pytest.raises(TooLarge, match="body larger than 10 MB"):
        fetch(allowing(site), url)
    assert time.monotonic() - start < 2


# -- redirects -------------------------------------------------------------------------


def redirect(location: str) -> Route:
    return Route(status=302, headers={"Location": location})


def test_a_redirect_loop_is_detected(site: SiteServer) -> None:
    site.add("/a", redirect("/b"))
    site.add("/b", redirect("/a"))
    with pytest.raises(TooManyRedirects, match="redirect loop"):
        fetch(allowing(site), site.url("/a"))
    assert len(site.hits) == 2


def test_five_redirects_are_followed_six_are_too_many(site: SiteServer) -> None:
    for i in range(6):
        site.add(f"/r{i}", redirect(f"/r{i + 1}"))
    site.add("/r6", Route("arrived"))
    got = fetch(allowing(site), site.url("/r1"))
    assert (got.body, got.url) == (b"arrived", site.url("/r6"))
    with pytest.raises(TooManyRedirects, match="more than 5 redirects"):
        fetch(allowing(site), site.url("/r0"))
    assert len(site.hits_for("/r6")) == 1  # only from the first fetch


def test_a_redirect_into_a_private_address_is_blocked(site: SiteServer, other: SiteServer) -> None:
    url = site.add("/go", redirect(other.url("/secret")))
    with pytest.raises(BlockedURL, match=re.escape("127.0.0.2 is loopback and not allowed")):
        fetch(allowing(site), url)
    assert other.hits == []


def test_a_redirect_to_a_file_url_is_blocked(site: SiteServer) -> None:
    url = site.add("/go", redirect("file:///etc/passwd"))
    with pytest.raises(BlockedURL, match="scheme 'file' is not allowed"):
        fetch(allowing(site), url)


# -- the address guard -------------------------------------------------------------------


def test_a_private_address_is_blocked_and_never_reached(other: SiteServer) -> None:
    with pytest.raises(BlockedURL, match=re.escape("127.0.0.2 is loopback")):
        fetch(Network(), other.url("/secret"))
    assert other.hits == []


def test_a_name_resolving_to_loopback_is_blocked_at_connect_time(site: SiteServer) -> None:
    # "localhost" is no literal IP, so only the connect-time guard can catch it.
    url = f"http://localhost:{site.port}/x"
    check_url(url, ())
    with pytest.raises(BlockedURL, match="is loopback and not allowed"):
        fetch(allowing(site), url)
    assert site.hits == []


def test_an_allowed_name_is_connected_to_its_checked_address(site: SiteServer) -> None:
    site.add("/x", Route("hello"))
    got = fetch(Network(allow_hosts=(f"localhost:{site.port}",)), f"http://localhost:{site.port}/x")
    assert got.body == b"hello"


def test_the_metadata_service_is_blocked_not_timed_out() -> None:
    start = time.monotonic()
    with pytest.raises(BlockedURL, match=re.escape("169.254.169.254 is link-local")):
        fetch(Network(), "http://169.254.169.254/latest/meta-data/")
    assert time.monotonic() - start < 1


@pytest.mark.parametrize(
    "url",
    ["file:///etc/passwd", "javascript:alert(1)", "ftp://example.org/", "not a url", "http:///"],
)
def test_urls_that_are_not_http_are_blocked(url: str) -> None:
    with pytest.raises(BlockedURL):
        fetch(Network(), url)


def test_connection_refused_is_a_plain_fetch_error() -> None:
    with SiteServer() as gone:
        network, url = allowing(gone), gone.url("/")
    with pytest.raises(FetchError, match="connection refused") as caught:
        fetch(network, url)
    assert type(caught.value) is FetchError


# -- error statuses --------------------------------------------------------------------


@pytest.mark.parametrize("status", [404, 410, 500])
def test_error_statuses_raise_with_the_status(site: SiteServer, status: int) -> None:
    url = site.add("/gone", Route("no", status=status))
    with pytest.raises(HTTPStatusError) as caught:
        fetch(allowing(site), url)
    assert (caught.value.status, caught.value.retry_after, caught.value.url) == (status, None, url)


def test_429_carries_retry_after(site: SiteServer) -> None:
    url = site.add("/busy", Route("slow down", status=429, headers={"Retry-After": "120"}))
    with pytest.raises(HTTPStatusError) as caught:
        fetch(allowing(site), url)
    assert (caught.value.status, caught.value.retry_after) == (429, 120.0)


# -- concurrency -----------------------------------------------------------------------


def test_per_host_limit_queues_requests_to_one_host(site: SiteServer) -> None:
    site.add("/slow", Route("ok", delay=0.3))
    elapsed = fetch_many(allowing(site, per_host=2), [site.url("/slow")] * 6)
    assert elapsed >= 0.85  # three rounds of two


def test_different_hosts_proceed_in_parallel(site: SiteServer) -> None:
    with SiteServer(host="127.0.0.3") as third:
        for server in (site, third):
            server.add("/slow", Route("ok", delay=0.3))
        urls = [site.url("/slow")] * 4 + [third.url("/slow")] * 4
        elapsed = fetch_many(allowing(site, third, per_host=2), urls)
    assert 0.55 <= elapsed < 1.0  # two rounds per host, both hosts at once


def test_the_global_limit_caps_all_hosts_together(site: SiteServer) -> None:
    with SiteServer(host="127.0.0.3") as third:
        for server in (site, third):
            server.add("/slow", Route("ok", delay=0.3))
        urls = [site.url("/slow")] * 2 + [third.url("/slow")] * 2
        elapsed = fetch_many(allowing(site, third, per_host=2, max_connections=2), urls)
    assert elapsed >= 0.55


# -- pure functions ----------------------------------------------------------------------

NOW = datetime(2024, 6, 3, 12, 0, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("120", 120.0),
        (" 0 ", 0.0),
        ("Mon, 03 Jun 2024 12:02:00 GMT", 120.0),
        ("Mon, 03 Jun 2024 11:00:00 GMT", 0.0),  # in the past
        ("-5", None),
        ("1.5", None),
        ("soon", None),
        ("", None),
        (None, None),
    ],
)
def test_parse_retry_after(value: str | None, expected: float | None) -> None:
    assert parse_retry_after(value, now=NOW) == expected


@pytest.mark.parametrize(
    ("address", "public"),
    [
        ("8.8.8.8", True),
        ("2606:4700::1111", True),
        ("::ffff:8.8.8.8", True),
        ("64:ff9b::808:808", True),
        ("127.0.0.1", False),
        ("10.1.2.3", False),
        ("172.16.0.1", False),
        ("192.168.1.1", False),
        ("169.254.169.254", False),
        ("100.64.0.1", False),
        ("0.0.0.0", False),
        ("224.0.0.1", False),
        ("240.0.0.1", False),
        ("255.255.255.255", False),
        ("::1", False),
        ("::", False),
        ("::ffff:127.0.0.1", False),
        ("64:ff9b::7f00:1", False),
        ("2002:7f00:1::", False),
        ("2002:a9fe:a9fe::", False),
        ("2001:0:4136:e378:8000:63bf:3fff:fdd2", False),  # Teredo
        ("fd00::1", False),
        ("fe80::1", False),
        ("fec0::1", False),
        ("ff02::1", False),
        ("::7f00:1", False),
    ],
)
def test_is_public_ip(address: str, public: bool) -> None:
    assert is_public_ip(ipaddress.ip_address(address)) is public


@pytest.mark.parametrize(
    ("url", "allow", "blocked"),
    [
        ("https://example.org/feed", (), False),
        ("HTTP://Example.org", (), False),
        ("http://8.8.8.8/", (), False),
        ("http://127.0.0.1:8123/", ("127.0.0.1:8123",), False),
        ("http://127.0.0.1:8124/", ("127.0.0.1:8123",), True),
        ("http://127.0.0.1/", ("127.0.0.1:80",), False),
        ("http://[::1]:8000/", ("[::1]:8000",), False),
        ("http://[::1]/", (), True),
        ("http://10.0.0.1/", (), True),
        ("http://2130706433/", (), True),  # 127.0.0.1 as one number
        ("http://0x7f.1/", (), True),
        ("http://169.254.169.254/", (), True),
        ("file:///etc/passwd", (), True),
        ("javascript:alert(1)", (), True),
        ("mailto:someone@example.org", (), True),
        ("//example.org/", (), True),
        ("http://example.org:99999/", (), True),
    ],
)
def test_check_url(url: str, allow: tuple[str, ...], blocked: bool) -> None:
    if blocked:
        with pytest.raises(BlockedURL):
            check_url(url, allow)
    else:
        check_url(url, allow)

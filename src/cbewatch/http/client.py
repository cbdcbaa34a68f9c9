"""The client: GET with every limit of the config's `network` applied (timeouts, a
wall-clock deadline, the decoded-byte cap, the redirect cap, per-host and global slots),
each redirect hop checked by the address guard. No httpx error escapes: callers only
ever see cbewatch.errors.FetchError and its children.
"""

from __future__ import annotations

import asyncio
import functools
import ssl
import zlib
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpcore
import httpx

from ..config import Network
from ..errors import (
    BlockedURL,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooLarge,
    TooManyRedirects,
)
from .body import decoder_for, size_text
from .guard import AddressBlocked, ConnectFailed, GuardedBackend, check_url, socket_problem

REDIRECT_STATUSES = (301, 302, 303, 307, 308)


@dataclass(frozen=True)
class Fetched:
    """A successful answer: 2xx with its decoded body, or 304 Not Modified."""

    url: str  # final URL after redirects
    status: int  # 200..299 or 304
    headers: dict[str, str]  # lower-cased names
    body: bytes  # decoded (content-encoding removed); b"" for 304

    @property
    def content_type(self) -> str | None:
        media_type = self.headers.get("content-type", "").split(";")[0].strip().lower()
        return media_type or None

    @property
    def charset(self) -> str | None:
        for param in self.headers.get("content-type", "").split(";")[1:]:
            name, _, value = param.partition("=")
            if name.strip().lower() == "charset":
                return value.strip().strip("\"'").lower() or None
        return None

    @property
    def etag(self) -> str | None:
        return _header_value(self.headers.get("etag"))

    @property
    def last_modified(self) -> str | None:
        return _header_value(self.headers.get("last-modified"))

    @property
    def not_modified(self) -> bool:
        return self.status == 304


def _header_value(value: str | None) -> str | None:
    """A validator worth storing and sending back: printable ASCII only (anything else
    could not be sent in a request header)."""
    if value and value.isascii() and value.isprintable():
        return value
    return None


def parse_retry_after(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delay-seconds or HTTP-date).

    None when absent or unreadable; a date in the past gives 0, never a negative.
    """
    if value is None:
        return None
    text = value.strip()
    if text.isascii() and text.isdigit():
        return float(int(text))
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    now = now or datetime.now(UTC)
    if now.tzinfo is None:
        now = now.replace(tzinfo=UTC)
    return max(0.0, (when - now).total_seconds())


@dataclass(frozen=True)
class _Redirect:
    location: str


class HttpClient:
    """GET with every limit of `network` applied; use as `async with HttpClient(...)`."""

    def __init__(self, network: Network, user_agent: str) -> None:
        self._network = network
        self._allow_hosts = network.allow_hosts
        self._per_host: dict[str, asyncio.Semaphore] = {}
        self._all = asyncio.Semaphore(network.max_connections)
        # One connection pool per host: httpcore checks every pooled connection (with
        # system calls) each time a request starts or ends, so one pool shared by many
        # hosts costs more CPU than the downloads themselves. Requests go to the host's
        # transport directly: httpx's client layers (auth, redirects, cookies, event
        # hooks) do nothing we use and cost a third of a request's CPU.
        self._transports: dict[str, httpx.AsyncHTTPTransport] = {}
        self._headers = {
            "Accept": "*/*",
            "Accept-Encoding": "gzip, deflate",
            "Connection": "keep-alive",
            "User-Agent": user_agent,
        }
        self._timeout = httpx.Timeout(
            connect=network.connect_timeout,
            read=network.read_timeout,
            write=network.read_timeout,
            pool=None,  # waiting for a slot is bounded by the deadline instead
        ).as_dict()

    def _transport_for(self, url: str) -> httpx.AsyncHTTPTransport:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}".lower()
        if key not in self._transports:
            self._transports[key] = _guarded_transport(self._network)
        return self._transports[key]

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for transport in self._transports.values():
            await transport.aclose()
        self._transports.clear()

    async def get(
        self,
        url: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        accept: str | None = None,
    ) -> Fetched:
        """Fetch `url`, following redirects; raise a FetchError for anything but 2xx/304.

        The deadline applies to each hop; errors name the URL of the hop that failed.
        """
        headers = _request_headers(etag, last_modified, accept)
        seen = {url}
        for _ in range(self._network.max_redirects + 1):
            result = await self._fetch_once(url, headers)
            if isinstance(result, Fetched):
                return result
            if result.location in seen:
                raise TooManyRedirects(url, f"redirect loop back to {result.location}")
            seen.add(result.location)
            url = result.location
        raise TooManyRedirects(url, f"more than {self._network.max_redirects} redirects")

    async def _fetch_once(self, url: str, headers: dict[str, str]) -> Fetched | _Redirect:
        check_url(url, self._allow_hosts)
        deadline = self._network.deadline
        # Wait for a slot before the deadline starts: a queue is not a slow server.
        async with self._host_slot(url), self._all:
            try:
                async with asyncio.timeout(deadline):
                    return await self._exchange(url, headers)
            except TimeoutError:
                raise FetchTimeout(url, f"took longer than {deadline:g} s") from None
            except AddressBlocked as exc:
                raise BlockedURL(url, exc.reason) from None
            except ConnectFailed as exc:
                raise FetchError(url, exc.reason) from None
            except (httpx.HTTPError, httpx.InvalidURL, httpx.StreamError) as exc:
                raise self._translate(url, exc) from exc
            except (UnicodeError, ValueError) as exc:  # a header or URL httpx cannot send
                raise FetchError(url, f"the request could not be made ({exc})") from None

    def _host_slot(self, url: str) -> asyncio.Semaphore:
        host = (urlsplit(url).hostname or "").rstrip(".")
        if host not in self._per_host:
            self._per_host[host] = asyncio.Semaphore(self._network.per_host)
        return self._per_host[host]

    async def _exchange(self, url: str, headers: dict[str, str]) -> Fetched | _Redirect:
        # Redirects are followed by hand (`get`), so that every hop is checked.
        request = httpx.Request(
            "GET", url, headers={**self._headers, **headers}, extensions={"timeout": self._timeout}
        )
        response = await self._transport_for(url).handle_async_request(request)
        response.request = request
        try:
            return await self._read(url, response)
        finally:
            await response.aclose()

    async def _read(self, url: str, response: httpx.Response) -> Fetched | _Redirect:
        status = response.status_code
        location = response.headers.get("location")
        if status in REDIRECT_STATUSES and location:
            return _Redirect(str(response.url.join(location)))
        if status == 304:
            return _fetched(response, b"")
        if not 200 <= status < 300:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            raise HTTPStatusError(url, status, retry_after)
        return _fetched(response, await self._read_body(url, response))

    async def _read_body(self, url: str, response: httpx.Response) -> bytes:
        limit = self._network.max_bytes
        too_large = TooLarge(url, f"body larger than {size_text(limit)}")
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise too_large  # no need to start reading what we would throw away
        decoder = decoder_for(url, response.headers.get("content-encoding"))
        body = bytearray()
        received = 0
        try:
            async for chunk in response.aiter_raw():
                received += len(chunk)
                if received > limit:  # compressed bytes count too: no endless streams
                    raise too_large
                for piece in decoder.decode(chunk):
                    body += piece
                    if len(body) > limit:
                        raise too_large
            body += decoder.flush()
        except zlib.error:
            raise FetchError(url, f"body is not valid {decoder.encoding}") from None
        if len(body) > limit:
            raise too_large
        return bytes(body)

    def _translate(self, url: str, exc: Exception) -> FetchError:
        network = self._network
        if isinstance(exc, httpx.ConnectTimeout):
            return FetchTimeout(url, f"no connection within {network.connect_timeout:g} s")
        if isinstance(exc, httpx.TimeoutException):
            return FetchTimeout(url, f"no data for {network.read_timeout:g} s")
        if isinstance(exc, httpx.InvalidURL):
            return BlockedURL(url, "not a valid URL")
        if isinstance(exc, httpx.ProtocolError):
            return FetchError(url, "the server broke the HTTP protocol")
        if isinstance(exc, httpx.NetworkError):
            return FetchError(url, socket_problem(exc))
        return FetchError(url, f"request failed ({type(exc).__name__})")


@functools.cache
def _ssl_context() -> ssl.SSLContext:
    """One per process: loading the CA bundle costs ~40 ms, too much for every run."""
    return httpx.create_ssl_context(trust_env=False)


def _guarded_transport(network: Network) -> httpx.AsyncHTTPTransport:
    ssl_context = _ssl_context()
    transport = httpx.AsyncHTTPTransport(verify=ssl_context, trust_env=False)
    # httpx has no public way to pass a network backend, so we swap in a pool built
    # the same way plus the guard. tests/test_http.py proves the guard is in place.
    transport._pool = httpcore.AsyncConnectionPool(
        ssl_context=ssl_context,
        max_connections=network.per_host,  # a pool serves one host (see HttpClient)
        max_keepalive_connections=network.per_host,
        network_backend=GuardedBackend(network.allow_hosts),
    )
    return transport


def _request_headers(
    etag: str | None, last_modified: str | None, accept: str | None
) -> dict[str, str]:
    headers: dict[str, str] = {}
    if tag := _header_value(etag):
        headers["If-None-Match"] = tag
    if stamp := _header_value(last_modified):
        headers["If-Modified-Since"] = stamp
    if accept:
        headers["Accept"] = accept
    return headers


def _fetched(response: httpx.Response, body: bytes) -> Fetched:
    return Fetched(
        url=str(response.url),
        status=response.status_code,
        headers=dict(response.headers.items()),
        body=body,
    )

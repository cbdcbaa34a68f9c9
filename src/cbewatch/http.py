"""The one outbound HTTP client: timeouts, a wall-clock deadline, a decoded-byte cap,
a redirect cap and a per-host limit. It must never connect to a loopback, private or
otherwise non-public address unless that host:port is allowed, and never let an httpx
error escape: callers only ever see cbewatch.errors.FetchError and its children.
"""

from __future__ import annotations

import asyncio
import errno
import functools
import ipaddress
import re
import socket
import ssl
import zlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from urllib.parse import urlsplit

import httpcore
import httpx

from .config import Network
from .errors import (
    BlockedURL,
    FetchError,
    FetchTimeout,
    HTTPStatusError,
    TooLarge,
    TooManyRedirects,
)

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")
REDIRECT_STATUSES = (301, 302, 303, 307, 308)
DEFAULT_PORTS = {"http": 80, "https": 443}
# Decoded output is produced in pieces of at most this size, so one compressed chunk can
# never expand to more than this in memory before the cap is checked.
PIECE_BYTES = 64 * 1024

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED_V4 = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT


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


# ---------------------------------------------------------------------------------------
# Pure checks: which addresses and URLs are allowed, what a Retry-After means.


def is_public_ip(ip: IPAddress) -> bool:
    """True when `ip` is a globally routable unicast address (8.8.8.8, 2606:4700::1111)."""
    return _non_public_kind(ip) is None


def _non_public_kind(ip: IPAddress) -> str | None:
    """A word saying why `ip` is not public ("loopback", "private", …), None if it is."""
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:  # these reach an IPv4 host: judge that host
            return _non_public_kind(embedded)
        if ip.teredo is not None:  # a tunnel that can lead anywhere
            return "a Teredo tunnel"
        if ip.is_site_local:
            return "site-local"
    if ip.is_unspecified:
        return "unspecified"
    if ip.is_loopback:
        return "loopback"
    if ip.is_link_local:  # 169.254.169.254, the cloud metadata service, is one
        return "link-local"
    if ip.is_multicast:
        return "multicast"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED_V4:
        return "shared (carrier-grade NAT)"
    if ip.is_private:
        return "private"
    if ip.is_reserved or not ip.is_global:
        return "reserved"
    return None


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:  # ::ffff:a.b.c.d
        return ip.ipv4_mapped
    if ip in _NAT64:  # 64:ff9b::a.b.c.d
        return ipaddress.IPv4Address(int(ip) & 0xFFFF_FFFF)
    return ip.sixtofour  # 2002:AABB:CCDD::/48, or None


def check_url(url: str, allow_hosts: tuple[str, ...]) -> None:
    """Raise BlockedURL for a non-http(s) URL or a literal non-public IP host.

    Cheap and without DNS: names are checked again, after resolution, at connect time.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or DEFAULT_PORTS.get(parts.scheme.lower())
    except ValueError:
        raise BlockedURL(url, "not a valid URL") from None
    scheme = parts.scheme.lower()
    if scheme not in ALLOWED_SCHEMES:
        raise BlockedURL(url, f"scheme {scheme or 'missing'!r} is not allowed, only http(s)")
    host = parts.hostname
    if not host:
        raise BlockedURL(url, "has no host")
    ip = _literal_ip(host)
    if ip is None or _authority(host, port) in _normalized(allow_hosts):
        return
    kind = _non_public_kind(ip)
    if kind is not None:
        raise BlockedURL(url, f"address {ip} is {kind} and not allowed")


def _literal_ip(host: str) -> IPAddress | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        pass
    # Resolvers also accept shorthand like 127.1, 0x7f.0.0.1 or 2130706433.
    if re.fullmatch(r"[0-9a-fx.]+", host, re.IGNORECASE):
        try:
            return ipaddress.IPv4Address(socket.inet_aton(host))
        except OSError:
            return None
    return None


def _authority(host: str, port: int | None) -> str:
    """host:port as an allow_hosts entry spells it; IPv6 hosts go in brackets."""
    host = host.lower().rstrip(".")
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"


def _normalized(allow_hosts: Iterable[str]) -> frozenset[str]:
    return frozenset(entry.strip().lower() for entry in allow_hosts)


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


# ---------------------------------------------------------------------------------------
# The address guard: httpcore asks this backend for every new TCP connection.


class _AddressBlocked(Exception):
    """Raised inside httpcore by the guard; HttpClient turns it into BlockedURL."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _ConnectFailed(Exception):
    """Raised inside httpcore for DNS and socket failures; becomes FetchError."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class _GuardedBackend(httpcore.AsyncNetworkBackend):
    """Resolve the host, refuse if any address is not public, connect to a checked IP.

    Checking here rather than on the URL closes DNS tricks: a public name that resolves
    to 127.0.0.1 is caught, and the socket goes to the very address that was checked.
    TLS is unaffected: httpcore sends SNI and verifies the certificate for the URL's host.
    """

    def __init__(self, allow_hosts: tuple[str, ...]) -> None:
        self._allow = _normalized(allow_hosts)
        self._inner = httpcore.AnyIOBackend()

    async def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        addresses = await _resolve(host, port, timeout)
        if _authority(host, port) not in self._allow:
            for ip in addresses:
                kind = _non_public_kind(ip)
                if kind is not None:
                    raise _AddressBlocked(f"address {ip} is {kind} and not allowed")
        failure: httpcore.ConnectError | None = None
        for ip in addresses:
            try:
                return await self._inner.connect_tcp(
                    str(ip),
                    port,
                    timeout=timeout,
                    local_address=local_address,
                    socket_options=socket_options,
                )
            except httpcore.ConnectError as exc:
                failure = exc
        raise _ConnectFailed(_socket_problem(failure))

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise _AddressBlocked("unix sockets are not allowed")

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


async def _resolve(host: str, port: int, timeout: float | None) -> list[IPAddress]:
    try:
        return [ipaddress.ip_address(host)]  # a literal address needs no resolver thread
    except ValueError:
        pass
    loop = asyncio.get_running_loop()
    try:
        async with asyncio.timeout(timeout):
            infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except TimeoutError:
        raise httpcore.ConnectTimeout(f"looking up {host} took too long") from None
    except (OSError, UnicodeError):
        raise _ConnectFailed(f"host name {host} could not be resolved") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise _ConnectFailed(f"host name {host} has no address")
    return list(dict.fromkeys(addresses))  # keep the resolver's order, drop repeats


_ERRNO_PHRASES = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
}


def _socket_problem(exc: BaseException | None) -> str:
    """A short phrase for the OSError at the bottom of httpcore's and anyio's wrapping."""
    while exc is not None:
        if isinstance(exc, ssl.SSLCertVerificationError):
            return f"certificate not valid ({exc.verify_message})"
        if isinstance(exc, ssl.SSLError):
            return "TLS handshake failed"
        if isinstance(exc, OSError) and exc.errno is not None:
            return _ERRNO_PHRASES.get(exc.errno, f"could not connect ({exc.strerror})")
        exc = exc.__cause__ or exc.__context__
    return "could not connect"


# ---------------------------------------------------------------------------------------
# Body decoding, bounded: we decode ourselves so the cap counts decoded bytes.

_WBITS = {
    "gzip": 16 + zlib.MAX_WBITS,
    "x-gzip": 16 + zlib.MAX_WBITS,
    "deflate": zlib.MAX_WBITS,  # zlib-wrapped, as HTTP says; raw deflate is tried too
}


class _BodyDecoder:
    """Undo one Content-Encoding, yielding output in pieces of at most PIECE_BYTES."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._zlib = zlib.decompressobj(_WBITS[encoding]) if encoding in _WBITS else None
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            yield data
            return
        while data and not self._zlib.eof:
            try:
                piece = self._zlib.decompress(data, PIECE_BYTES)
            except zlib.error:
                if self.encoding != "deflate" or self._started:
                    raise
                # Some servers send raw deflate without the zlib header.
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                self._started = True
                continue
            self._started = True
            yield piece
            data = self._zlib.unconsumed_tail

    def flush(self) -> bytes:
        # Every input byte was already fed in, so what remains is small.
        return self._zlib.flush() if self._zlib is not None else b""


def _decoder_for(url: str, header: str | None) -> _BodyDecoder:
    encoding = (header or "identity").strip().lower()
    if encoding in ("", "identity"):
        return _BodyDecoder("identity")
    if encoding not in _WBITS:
        raise FetchError(url, f"unsupported content encoding {encoding!r}")
    return _BodyDecoder(encoding)


def _size(limit: int) -> str:
    return f"{limit / 1_000_000:g} MB" if limit >= 1_000_000 else f"{limit} bytes"


# ---------------------------------------------------------------------------------------
# The client.


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
        self._user_agent = user_agent
        # One connection pool per host: httpcore checks every pooled connection (with
        # system calls) each time a request starts or ends, so one pool shared by many
        # hosts costs more CPU than the downloads themselves.
        self._clients: dict[str, httpx.AsyncClient] = {}

    def _client_for(self, url: str) -> httpx.AsyncClient:
        parts = urlsplit(url)
        key = f"{parts.scheme}://{parts.netloc}".lower()
        if key not in self._clients:
            self._clients[key] = self._new_client()
        return self._clients[key]

    def _new_client(self) -> httpx.AsyncClient:
        network = self._network
        return httpx.AsyncClient(
            transport=_guarded_transport(network),
            headers={"User-Agent": self._user_agent, "Accept-Encoding": "gzip, deflate"},
            timeout=httpx.Timeout(
                connect=network.connect_timeout,
                read=network.read_timeout,
                write=network.read_timeout,
                pool=None,  # waiting for a slot is bounded by the deadline instead
            ),
            follow_redirects=False,  # followed by hand so every hop is checked
            trust_env=False,  # no proxies or certificates from the environment
        )

    async def __aenter__(self) -> HttpClient:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.aclose()
        self._clients.clear()

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
            except _AddressBlocked as exc:
                raise BlockedURL(url, exc.reason) from None
            except _ConnectFailed as exc:
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
        client = self._client_for(url)
        request = client.build_request("GET", url, headers=headers)
        response = await client.send(request, stream=True)
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
        too_large = TooLarge(url, f"body larger than {_size(limit)}")
        declared = response.headers.get("content-length", "").strip()
        if declared.isdigit() and int(declared) > limit:
            raise too_large  # no need to start reading what we would throw away
        decoder = _decoder_for(url, response.headers.get("content-encoding"))
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
            return FetchError(url, _socket_problem(exc))
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
        network_backend=_GuardedBackend(network.allow_hosts),
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

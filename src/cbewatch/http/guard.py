"""The address guard: which addresses and URLs outbound requests may reach, checked
on the URL (cheap, no DNS) and again at connect time, after resolution, on the very
address the socket goes to. Never lets a loopback, private or otherwise non-public
address through unless its host:port is in `allow_hosts`.
"""

from __future__ import annotations

import asyncio
import errno
import ipaddress
import re
import socket
import ssl
from collections.abc import Iterable
from urllib.parse import urlsplit

import httpcore

from ..errors import BlockedURL

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

ALLOWED_SCHEMES = ("http", "https")
DEFAULT_PORTS = {"http": 80, "https": 443}

_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
_SHARED_V4 = ipaddress.IPv4Network("100.64.0.0/10")  # carrier-grade NAT


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


class AddressBlocked(Exception):
    """Raised inside httpcore by the guard; HttpClient turns it into BlockedURL."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ConnectFailed(Exception):
    """Raised inside httpcore for DNS and socket failures; becomes FetchError."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class GuardedBackend(httpcore.AsyncNetworkBackend):
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
                    raise AddressBlocked(f"address {ip} is {kind} and not allowed")
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
        raise ConnectFailed(socket_problem(failure))

    async def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[httpcore.SOCKET_OPTION] | None = None,
    ) -> httpcore.AsyncNetworkStream:
        raise AddressBlocked("unix sockets are not allowed")

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
        raise ConnectFailed(f"host name {host} could not be resolved") from None
    addresses = [ipaddress.ip_address(info[4][0]) for info in infos]
    if not addresses:
        raise ConnectFailed(f"host name {host} has no address")
    return list(dict.fromkeys(addresses))  # keep the resolver's order, drop repeats


_ERRNO_PHRASES = {
    errno.ECONNREFUSED: "connection refused",
    errno.ECONNRESET: "connection reset",
    errno.ENETUNREACH: "network unreachable",
    errno.EHOSTUNREACH: "host unreachable",
}


def socket_problem(exc: BaseException | None) -> str:
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

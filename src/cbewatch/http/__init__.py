"""The one outbound HTTP client: timeouts, a wall-clock deadline, a decoded-byte cap,
a redirect cap and a per-host limit. It must never connect to a loopback, private or
otherwise non-public address unless that host:port is allowed, and never let an httpx
error escape: callers only ever see cbewatch.errors.FetchError and its children.

    client.py   HttpClient and Fetched (what a GET gives), Retry-After
    guard.py    which addresses may be reached: on the URL, and again at connect time
    body.py     bounded decoding of gzip and deflate bodies
"""

from __future__ import annotations

from .client import Fetched, HttpClient, parse_retry_after
from .guard import check_url, is_public_ip

__all__ = ["Fetched", "HttpClient", "check_url", "is_public_ip", "parse_retry_after"]

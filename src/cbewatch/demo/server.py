"""A small threaded HTTP server for fixture sites on loopback: the demo serves its
fictional organizations with it, and the tests serve feeds, pages and misbehaving
servers with it. It only ever binds to a loopback address.
"""

from __future__ import annotations

import contextlib
import hashlib
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email.utils import formatdate
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

BASE_TOKEN = "__BASE__"  # replaced by the server's own base URL in files served from a folder

CONTENT_TYPES = {
    ".xml": "application/xml; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".atom": "application/atom+xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".html": "text/html; charset=utf-8",
    ".pdf": "application/pdf",
    ".txt": "text/plain; charset=utf-8",
}


@dataclass
class Route:
    """What one path answers. `etag`/`last_modified` make it honour conditional GETs."""

    body: bytes | str = b""
    status: int = 200
    content_type: str = "text/html; charset=utf-8"
    headers: dict[str, str] = field(default_factory=dict)
    etag: str | None = None
    last_modified: str | None = None
    delay: float = 0.0  # seconds before the response starts
    drip: float | None = None  # seconds between single bytes of the body

    def payload(self) -> bytes:
        return self.body.encode("utf-8") if isinstance(self.body, str) else self.body


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    headers: dict[str, str]


Handler = Callable[["Hit"], Route]


class SiteServer:
    """Serve `routes` (path with query → Route, or a function of the Hit) on host:port.

    Use as a context manager; `url(path)` gives absolute URLs and `hits` records every
    request, so a test can assert that a host was never reached.
    """

    def __init__(
        self,
        routes: dict[str, Route | Handler] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        self.routes: dict[str, Route | Handler] = dict(routes or {})
        self.hits: list[Hit] = []
        self._lock = threading.Lock()
        self._httpd = _QuietServer((host, port), _make_handler(self))
        self._httpd.daemon_threads = True
        self._thread: threading.Thread | None = None

    @property
    def host(self) -> str:
        return self._httpd.server_address[0]

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    @property
    def host_port(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    def url(self, path: str = "/") -> str:
        return self.base_url + path

    def add(self, path: str, route: Route | Handler) -> str:
        self.routes[path] = route
        return self.url(path)

    def add_directory(self, folder: Path, prefix: str = "/") -> None:
        """Serve every file under `folder`, with BASE_TOKEN replaced by the base URL."""
        for file in sorted(p for p in folder.rglob("*") if p.is_file()):
            rel = file.relative_to(folder).as_posix()
            body = file.read_bytes()
            if file.suffix != ".pdf":
                body = body.replace(BASE_TOKEN.encode(), self.base_url.encode())
            content_type = CONTENT_TYPES.get(file.suffix, "application/octet-stream")
            stamp = formatdate(file.stat().st_mtime, usegmt=True)
            route = Route(
                body, content_type=content_type, etag=f'"{hashlib.sha1(body).hexdigest()[:16]}"'
            )
            route.last_modified = stamp
            self.routes[prefix + rel] = route
            if rel.endswith("index.html"):
                self.routes[prefix + rel[: -len("index.html")]] = route

    def hits_for(self, path: str) -> list[Hit]:
        with self._lock:
            return [h for h in self.hits if h.path == path]

    def start(self) -> SiteServer:
        # A short poll interval makes stop() return in ~50 ms instead of up to 0.5 s.
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def __enter__(self) -> SiteServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


class _QuietServer(ThreadingHTTPServer):
    def handle_error(self, request: Any, client_address: Any) -> None:
        # Clients that hang up (timeouts, closed keep-alive connections) are normal here.
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _make_handler(server: SiteServer) -> type[BaseHTTPRequestHandler]:
    class _Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body go out in separate writes; without this, Nagle's algorithm
        # and delayed ACKs add ~40 ms to every response and distort timings.
        disable_nagle_algorithm = True

        def log_message(self, format: str, *args: object) -> None:  # keep test output quiet
            pass

        def do_HEAD(self) -> None:
            self.do_GET()

        def do_GET(self) -> None:
            hit = Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()})
            with server._lock:
                server.hits.append(hit)
            route = server.routes.get(self.path) or server.routes.get(self.path.split("?")[0])
            if callable(route):
                route = route(hit)
            if route is None:
                route = Route("not found", status=404, content_type="text/plain")
            # The client may give up mid-answer (deadline tests do it on purpose).
            with contextlib.suppress(ConnectionError):
                self._answer(route, hit)

        def _answer(self, route: Route, hit: Hit) -> None:
            if route.delay:
                time.sleep(route.delay)
            if _not_modified(route, hit):
                self.send_response(304)
                self._validators(route)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            body = route.payload()
            self.send_response(route.status)
            self.send_header("Content-Type", route.content_type)
            self._validators(route)
            for name, value in route.headers.items():
                self.send_header(name, value)
            if "Content-Length" not in route.headers:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if self.command == "HEAD":
                return
            if route.drip is None:
                self.wfile.write(body)
                return
            for i in range(len(body)):
                self.wfile.write(body[i : i + 1])
                self.wfile.flush()
                time.sleep(route.drip)

        def _validators(self, route: Route) -> None:
            if route.etag:
                self.send_header("ETag", route.etag)
            if route.last_modified:
                self.send_header("Last-Modified", route.last_modified)

    return _Handler


def _not_modified(route: Route, hit: Hit) -> bool:
    if route.status != 200:
        return False
    if route.etag and hit.headers.get("if-none-match") == route.etag:
        return True
    return bool(
        route.last_modified
        and not route.etag
        and hit.headers.get("if-modified-since") == route.last_modified
    )

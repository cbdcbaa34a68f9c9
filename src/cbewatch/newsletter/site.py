"""The static archive: `index.html` (every issue), `issues/YYYY-MM/index.html` (one page
an issue) and `feed.xml`, written into a folder a web server serves. A rebuild writes only
files whose bytes change, each through a temporary file and os.replace (a reader never
sees half a page). It removes only pages it wrote itself (a withdrawn issue's), never
another file in the folder.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..model.types import Issue
from .render import Renderer, issue_path, newest_first

# What the last build wrote: each file's digest, and for an issue page the digest of what
# it was rendered from, so a rebuild need not render an unchanged issue again.
MANIFEST = ".cbewatch-site.json"
_OURS = re.compile(r"index\.html|feed\.xml|issues/\d{4}-\d{2}/index\.html")


@dataclass(frozen=True)
class SiteReport:
    """What a build did, as paths relative to the site's folder."""

    written: tuple[str, ...]
    unchanged: tuple[str, ...]
    removed: tuple[str, ...] = ()

    def __str__(self) -> str:
        return f"{len(self.written)} files written, {len(self.unchanged)} unchanged" + (
            f", {len(self.removed)} removed" if self.removed else ""
        )


def build_site(issues: Sequence[Issue], renderer: Renderer, out_dir: Path) -> SiteReport:
    """Write the archive of `issues` (the published ones: the caller chooses) into
    `out_dir`. An issue page whose issue, templates and settings are as at the last build
    and whose file is as that build left it is not rendered again. Pages of issues no
    longer given are removed, if they are still as this code wrote them."""
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    ordered = newest_first(issues)
    before = _read_manifest(out_dir)
    after: dict[str, dict[str, str | None]] = {}
    written: list[str] = []
    unchanged: list[str] = []
    fingerprint = renderer.fingerprint()

    def put(path: str, inputs: str | None, render) -> None:
        known = before.get(path)
        target = out_dir / path
        if inputs and known and known.get("inputs") == inputs and _as_written(target, known):
            after[path] = {**known, "stat": _stat_of(target)}  # same inputs, same bytes
            unchanged.append(path)
            return
        data = render().encode("utf-8")
        (written if _write_if_changed(target, data) else unchanged).append(path)
        digest = hashlib.sha256(data).hexdigest()
        after[path] = {"sha256": digest, "inputs": inputs, "stat": _stat_of(target)}

    for issue in ordered:
        inputs = hashlib.sha256(f"{fingerprint}\0{issue!r}".encode()).hexdigest()
        put(issue_path(issue.month) + "index.html", inputs, lambda i=issue: renderer.issue_page(i))
    # The index and the feed depend on every issue: always rendered (both are cheap).
    put("index.html", None, lambda: renderer.archive_page(ordered))
    put("feed.xml", None, lambda: renderer.feed(ordered))

    removed = [
        path
        for path in sorted(set(before) - set(after))
        if _remove_ours(out_dir, path, before[path])
    ]
    if after != before or not (out_dir / MANIFEST).exists():
        manifest = {"version": 1, "files": after}
        _write_if_changed(
            out_dir / MANIFEST, json.dumps(manifest, indent=1, sort_keys=True).encode()
        )
    return SiteReport(tuple(written), tuple(unchanged), tuple(removed))


def _read_manifest(out_dir: Path) -> dict[str, dict[str, str | None]]:
    """The last build's files; nothing (so everything is rendered) if unreadable."""
    try:
        files = json.loads((out_dir / MANIFEST).read_text("utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return {}
    if not isinstance(files, dict):
        return {}
    # Only our own names, so that an edited manifest cannot aim us at another file.
    return {
        path: entry
        for path, entry in files.items()
        if isinstance(path, str) and _OURS.fullmatch(path) and isinstance(entry, dict)
        and isinstance(entry.get("sha256"), str)
    }  # fmt: skip


def _as_written(path: Path, known: dict[str, str | None]) -> bool:
    """The file holds what the last build wrote: its size and modification time are as
    recorded then (as make and git judge), else its bytes hash the same."""
    stat = _stat_of(path)
    return stat is not None and (stat == known.get("stat") or _digest_of(path) == known["sha256"])


def _stat_of(path: Path) -> str | None:
    try:
        stat = path.stat()
    except OSError:
        return None
    return f"{stat.st_size}:{stat.st_mtime_ns}"


def _digest_of(path: Path) -> str | None:
    try:
        return hashlib.sha256(path.read_bytes()).hexdigest()
    except OSError:
        return None


def _write_if_changed(path: Path, data: bytes) -> bool:
    """Write `data` to `path` unless it holds those bytes already; True if written."""
    try:
        if path.read_bytes() == data:
            return False
    except OSError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    # os.open with 0o666 lets the umask decide the mode, as a plain open would: a web
    # server must be able to read the files (tempfile would make them 0600).
    fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
    try:
        with os.fdopen(fd, "wb") as file:
            file.write(data)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    return True


def _remove_ours(out_dir: Path, path: str, entry: dict[str, str | None]) -> bool:
    """Remove a file the last build wrote, if it still holds what was written (someone
    else's edit is theirs to keep), and its issue folder once empty."""
    target = out_dir / path
    if _digest_of(target) != entry["sha256"]:
        return False
    target.unlink()
    folder = target.parent
    if folder != out_dir:
        with contextlib.suppress(OSError):  # not empty: someone else's files are there
            folder.rmdir()
    return True

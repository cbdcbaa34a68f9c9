"""The random keys a data directory keeps (session cookies, email links, ranking's
signed files): each made on first use, mode 0600, and written whole before it gets its
name, so a process racing this one never reads an empty or half-written key; the first
one linked wins and every process uses that one."""

from __future__ import annotations

import os
import secrets
import tempfile
from pathlib import Path


def data_dir_key(data_dir: Path, name: str) -> str:
    """The key kept in `data_dir/name`, made now if there is none."""
    path = data_dir / name
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        handle, partial = tempfile.mkstemp(dir=data_dir, prefix=name, suffix=".partial")
        try:  # mkstemp makes the file 0600
            with os.fdopen(handle, "w") as out:
                out.write(secrets.token_urlsafe(32))
            os.link(partial, path)
        except FileExistsError:
            pass  # another process made it first: use theirs
        finally:
            Path(partial).unlink(missing_ok=True)
    return path.read_text().strip()

"""Ranking's files in data_dir (the learned models, the field examples' classifier) are
pickles, and unpickling runs code: a file is read only when it carries the HMAC-SHA256
that the data directory's own key (`rank.key`, made once, mode 0600) gives its bytes,
so only a file cbewatch wrote there is ever unpickled. Anything else — missing, damaged,
forged, from another key — reads as None, and the caller rebuilds it.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import pickle
import secrets
import tempfile
from pathlib import Path
from typing import Any

KEY_FILE = "rank.key"
_MAGIC = b"cbewatch-signed-1\n"


def _key(data_dir: Path, create: bool) -> bytes | None:
    path = data_dir / KEY_FILE
    if not path.exists():
        if not create:
            return None
        data_dir.mkdir(parents=True, exist_ok=True)
        # written whole (mode 0600) before it gets its name: a writer racing this one
        # must never read a key still empty; the first one linked wins
        handle, partial = tempfile.mkstemp(dir=data_dir, prefix=KEY_FILE, suffix=".partial")
        try:
            with os.fdopen(handle, "w") as out:
                out.write(secrets.token_urlsafe(32))
            os.link(partial, path)
        except FileExistsError:
            pass
        finally:
            Path(partial).unlink(missing_ok=True)
    return path.read_bytes().strip() or None


def _digest(key: bytes, body: bytes) -> bytes:
    return hmac.new(key, body, hashlib.sha256).digest()


def write_signed(path: Path, value: Any) -> None:
    """Pickle `value` to `path`, signed with the key of its folder; atomically: a crash
    leaves the old file or the new one, never half."""
    key = _key(path.parent, create=True)
    assert key is not None  # just made
    body = pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    # a partial file of its own for every writer (process or thread) to replace from
    handle, partial = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".partial")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(_MAGIC + _digest(key, body) + body)
        os.replace(partial, path)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise


def read_signed(path: Path) -> Any | None:
    """The value in `path` if its signature holds; None otherwise (never unpickled)."""
    key = _key(path.parent, create=False)
    try:
        data = path.read_bytes()
    except OSError:
        return None
    head, size = len(_MAGIC), hashlib.sha256().digest_size
    if key is None or not data.startswith(_MAGIC) or len(data) < head + size:
        return None
    sent, body = data[head : head + size], data[head + size :]
    if not hmac.compare_digest(sent, _digest(key, body)):
        return None
    try:
        return pickle.loads(body)  # our own bytes: signed by this data directory's key
    except Exception:  # e.g. a class that no longer exists: rebuild
        return None

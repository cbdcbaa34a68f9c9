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
import tempfile
from pathlib import Path
from typing import Any

from ..keys import data_dir_key

KEY_FILE = "rank.key"
_MAGIC = b"cbewatch-signed-1\n"


def _key(data_dir: Path, create: bool) -> bytes | None:
    if not create and not (data_dir / KEY_FILE).exists():
        return None
    return data_dir_key(data_dir, KEY_FILE).encode() or None


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

"""A data directory's keys: made once, mode 0600, and never read empty by a process that
races the one making it."""

from __future__ import annotations

import stat
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from cbewatch.keys import data_dir_key


def test_racing_makers_all_get_the_one_key(tmp_path: Path) -> None:
    for round_ in range(20):
        folder = tmp_path / f"var{round_}"
        with ThreadPoolExecutor(8) as pool:
            keys = list(pool.map(data_dir_key, [folder] * 8, ["session.key"] * 8))
        assert len(set(keys)) == 1 and len(keys[0]) >= 40  # 32 random bytes, URL-safe
        assert stat.S_IMODE((folder / "session.key").stat().st_mode) == 0o600
        assert [p.name for p in folder.iterdir()] == ["session.key"]  # no partial left


def test_a_key_is_kept(tmp_path: Path) -> None:
    first = data_dir_key(tmp_path, "mail.key")
    assert data_dir_key(tmp_path, "mail.key") == first
    assert data_dir_key(tmp_path, "other.key") != first

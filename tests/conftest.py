"""Shared test fixtures: fixture sites on loopback and configs that point at them."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from cbewatch.demo.server import SiteServer

FIXTURES = Path(__file__).parent / "fixtures"


@pytest.fixture
def site() -> Iterator[SiteServer]:
    """An empty fixture site on 127.0.0.1; tests add routes to it."""
    with SiteServer() as server:
        yield server


def write_config(folder: Path, body: str, allow: list[str] | None = None) -> Path:
    """Write a sources.yaml under `folder` with its data in `folder/var`."""
    hosts = "".join(f'\n    - "{h}"' for h in allow or [])
    network = f"network:\n  allow_hosts:{hosts}\n" if hosts else ""
    path = folder / "sources.yaml"
    path.write_text(f"data_dir: var\nuser_agent: cbewatch-test/1.0\n{network}{body}")
    return path

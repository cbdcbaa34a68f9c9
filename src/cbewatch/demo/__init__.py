"""The offline demo: five fictional organizations' sites served on loopback, and the
pipeline's stages run on them. It never reaches beyond 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ..config import Settings, load_config
from ..services.accounts import add_user
from ..services.curation import find_items
from ..services.sources import FetchSummary
from ..store import Store
from .demo_sources import demo_sources_yaml
from .server import SiteServer

SITES = Path(__file__).parent / "sites"

Fetch = Callable[..., FetchSummary]


def topics_yaml(settings: Settings) -> str:
    """The operator's sections as a `topics:` block, so the demo shows their newsletter."""
    lines = ["topics:"]
    for topic in settings.topics:
        lines.append(f"  - name: {json.dumps(topic.name)}")
        lines.append(f"    keywords: {json.dumps(list(topic.keywords))}")
    return "\n".join(lines) + "\n"


def prepare_demo(settings: Settings, base_url: str) -> Path:
    """Write the demo's config under data_dir/demo/ with a fresh database; return its path."""
    folder = settings.data_dir / "demo"
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("cbewatch.db*"):
        stale.unlink()  # the fixture server's port changes between runs: start afresh
    config = folder / "sources.yaml"
    config.write_text(demo_sources_yaml(base_url, str(folder), topics_yaml(settings)))
    return config


DEMO_USER = "demo"
DEMO_PASSWORD = "demo-curator"


def run_demo(
    config_path: Path,
    port: int,
    echo: Callable[[str], None],
    fetch: Fetch,
    serve: Callable[[Settings], None] | None = None,
    web_url: str = "",
) -> None:
    """Serve the fixture sites, fetch everything from them, then (with `serve`) run the
    queue on the demo data, the sites still up for "poll now", until Ctrl+C."""
    settings = load_config(config_path)
    with SiteServer(port=port) as server:
        server.add_directory(SITES)
        demo_config = prepare_demo(settings, server.base_url)
        demo = load_config(demo_config)
        echo(f"Demo sites of {len(demo.sources)} fictional organizations at {server.base_url}/")
        with Store(demo.db_path) as store:
            summary = fetch(demo, store, poll_all=True)
            add_user(store, DEMO_USER, DEMO_PASSWORD)
            echo(summary.line())
            for item in find_items(store):
                for copy in item.also_at:
                    echo(f"  {item.title} ({item.source}) — also at {copy.source}")
        echo(f"See them: .venv/bin/cbewatch --config {demo_config} items")
        if serve is not None:
            echo(f"The queue: {web_url} (log in as {DEMO_USER} / {DEMO_PASSWORD}; Ctrl+C stops)")
            serve(demo)

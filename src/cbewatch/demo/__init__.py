"""The offline demo: five fictional organizations' sites served on loopback, the
pipeline's stages run on them, and the approved issue sent to a few demo subscribers
through a mail server of its own that writes each email to a file. It never reaches
beyond 127.0.0.1.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

from ..config import Settings, load_config
from ..model.types import QueueQuery
from ..newsletter.assemble import month_of
from ..services import curation, issues
from ..services.accounts import add_user
from ..services.curation import find_items
from ..services.sending import SendReport, send_issue
from ..services.sources import FetchSummary
from ..store import Store
from .demo_sources import demo_sources_yaml
from .mail_sink import MailSink
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


def demo_folder(settings: Settings) -> Path:
    return settings.data_dir / "demo"


def prepare_demo(
    settings: Settings,
    base_url: str,
    archive_url: str = "http://127.0.0.1:8000/",
    smtp_port: int | None = None,
) -> Path:
    """Write the demo's config under data_dir/demo/ with a fresh database; return its path."""
    folder = demo_folder(settings)
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("cbewatch.db*"):
        stale.unlink()  # the fixture server's port changes between runs: start afresh
    config = folder / "sources.yaml"
    config.write_text(
        demo_sources_yaml(
            base_url,
            str(folder),
            topics_yaml(settings),
            archive_url=archive_url,
            smtp_port=smtp_port,
        )
    )
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
    root = web_url.rsplit("/queue", 1)[0] or "http://127.0.0.1:8000"
    outbox = demo_folder(settings) / "outbox"
    with SiteServer(port=port) as server, MailSink(outbox) as mail:
        server.add_directory(SITES)
        demo_config = prepare_demo(settings, server.base_url, f"{root}/", mail.port)
        demo = load_config(demo_config)
        echo(f"Demo sites of {len(demo.sources)} fictional organizations at {server.base_url}/")
        with Store(demo.db_path) as store:
            summary = fetch(demo, store, poll_all=True)
            add_user(store, DEMO_USER, DEMO_PASSWORD)
            echo(summary.line())
            for item in find_items(store):
                for copy in item.also_at:
                    echo(f"  {item.title} ({item.source}) — also at {copy.source}")
            month = curate_demo_issue(store, demo)
            if month:
                echo(send_demo_issue(store, demo, month).line())
                echo(f"The emails: {outbox}/ (one .eml file each; open one in a mail client)")
        echo(f"See them: .venv/bin/cbewatch --config {demo_config} items")
        if serve is not None:
            echo(f"The queue: {web_url} (log in as {DEMO_USER} / {DEMO_PASSWORD}; Ctrl+C stops)")
            if month:
                echo(f"The archive: {root}/ and the {month} issue: {root}/issues/{month}/")
            serve(demo)


DEMO_ACCEPTS = 8  # the best-ranked items a demo curator accepts, each with a blurb


def curate_demo_issue(store: Store, settings: Settings) -> str | None:
    """What a curator would do next: accept the best-ranked items, keeping their blurb
    drafts as the blurbs, then open and approve the issue of the month most of them
    belong to; returns that month (None when nothing was found)."""
    best, _ = store.queue.page(QueueQuery(status="new"), limit=DEMO_ACCEPTS)
    topics = [t.name for t in settings.topics]
    accepted = []
    for item in best:
        decided = curation.triage(
            store, item.id, "accept", blurb=item.blurb_draft, who=DEMO_USER, topics=topics
        )
        accepted.append(decided)
    if not accepted:
        return None
    months = [month_of(item) for item in accepted]
    month = max(set(months), key=lambda m: (months.count(m), m))
    issues.open_draft(store, settings, month)
    issues.carry_over(store, settings, month)  # the handful from other months too
    issues.approve(store, settings, month)
    return month


DEMO_SUBSCRIBERS = ("ada@example.org", "bao@example.org", "chioma@example.org")


def send_demo_issue(store: Store, settings: Settings, month: str) -> SendReport:
    """A few demo subscribers (their consent stated, as an import of a list would) get
    the approved issue through the demo's own mail server."""
    store.subscribers.import_rows([(a, "") for a in DEMO_SUBSCRIBERS], "confirmed", "demo")
    return send_issue(store, settings, month)

"""Source yield (`cbewatch sources --yield`, the sources page) on a small database whose
figures are counted by hand, the weekly chart as valid SVG, and the queue's count of this
month's accepted items per section."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from click.testing import CliRunner
from lxml import etree

from cbewatch.cli import cli
from cbewatch.config import load_config
from cbewatch.model.types import Entry
from cbewatch.services.accounts import add_user
from cbewatch.store import Store
from cbewatch.web.charts import weekly_bars

from .conftest import PASSWORD, logged_in, start_serve, write_config

NOW = datetime.now(UTC)
SOURCES = {
    "Busy Lab": "https://busy.example.org/feed",
    "Quiet Council": "https://quiet.example.org/feed",
    "Noisy Wire": "https://noisy.example.org/feed",
    "Broken Site": "https://broken.example.org/feed",
}


def entries(host: str, count: int, published: datetime) -> list[Entry]:
    return [
        Entry(url=f"https://{host}/p/{n}", title=f"{host} piece {n}", published=published)
        for n in range(count)
    ]


def yield_config(folder: Path) -> Path:
    topics = "topics:\n  - name: Policy\n  - name: Equity\n"
    listed = "".join(
        f'  - name: "{name}"\n    url: "{url}"\n    kind: feed\n' for name, url in SOURCES.items()
    )
    config = write_config(folder, topics + "sources:\n" + listed)
    with Store(load_config(config).db_path) as store:
        store.sources.sync([(name, url, "feed") for name, url in SOURCES.items()])
        # Busy Lab: 3 this week (ids 1-3); 1 accepted into Policy, 1 rejected
        store.sources.record_poll("Busy Lab", entries("busy.example.org", 3, NOW), NOW)
        # Quiet Council: 1 item 90 days ago (id 4), accepted; 1 item 200 days ago (id 5)
        old = NOW - timedelta(days=90)
        store.sources.record_poll("Quiet Council", entries("quiet.example.org", 1, old), old)
        older = NOW - timedelta(days=200)
        ancient = [Entry(url="https://quiet.example.org/p/old", title="Old", published=older)]
        store.sources.record_poll("Quiet Council", ancient, older)
        # Noisy Wire: 2 this week (ids 6-7), neither accepted
        store.sources.record_poll("Noisy Wire", entries("noisy.example.org", 2, NOW), NOW)
        # Broken Site: nothing, and failing since its last success ten days ago
        failing = lambda state: replace(  # noqa: E731
            state,
            last_polled=NOW,
            last_success=NOW - timedelta(days=10),
            consecutive_failures=5,
        )
        store.sources.record_poll("Broken Site", [], NOW, failing)
        store.decisions.set(1, {"status": "accepted", "topic": "Policy"}, "ann")
        store.decisions.set(2, {"status": "rejected"}, "ann")
        store.decisions.set(4, {"status": "accepted", "topic": "Equity"}, "ann")
        add_user(store, "alice", PASSWORD)
    return config


def test_sources_yield_counts_and_flags(tmp_path: Path) -> None:
    config = yield_config(tmp_path)
    result = CliRunner().invoke(cli, ["--config", str(config), "sources", "--yield", "--json"])
    assert result.exit_code == 0, result.output
    rows = {row["name"]: row for row in map(json.loads, result.output.splitlines())}
    picked = {
        name: (r["seen"], r["accepted"], r["rejected"], r["duplicates"], r["flags"])
        for name, r in rows.items()
    }
    assert picked == {
        "Busy Lab": (3, 1, 1, 0, []),
        "Quiet Council": (1, 1, 0, 0, ["silent"]),  # the 200-day-old item is outside
        "Noisy Wire": (2, 0, 0, 0, ["no accepted item"]),
        "Broken Site": (0, 0, 0, 0, ["failing"]),
    }
    busy = rows["Busy Lab"]
    assert len(busy["new_per_week"]) == 26 and busy["new_per_week"][-1] == 3
    assert busy["accepted_per_week"][-1] == 1 and sum(busy["new_per_week"]) == 3
    # Quiet Council's item of 90 days ago is 12 weeks back (90 // 7), the 26th week the last
    assert rows["Quiet Council"]["new_per_week"][25 - 12] == 1

    table = CliRunner().invoke(cli, ["--config", str(config), "sources", "--yield"])
    assert table.output.splitlines()[-1] == "4 sources over six months, 3 to look at"


def test_the_weekly_chart_is_valid_svg_with_its_label_escaped() -> None:
    chart = weekly_bars([0, 2, 4], [0, 1, 4], 'Alder <script>"x"</script>: 6 new')
    root = etree.fromstring(str(chart).encode())
    assert root.tag == "{http://www.w3.org/2000/svg}svg" and root.get("width") == "12"
    rects = root.findall("{http://www.w3.org/2000/svg}rect")
    assert [(r.get("x"), r.get("height")) for r in rects] == [
        ("4", "12"),  # week 2: 2 new of a peak of 4
        ("4", "6"),  # 1 accepted
        ("8", "24"),
        ("8", "24"),
    ]
    assert root.findtext("{http://www.w3.org/2000/svg}title") == 'Alder <script>"x"</script>: 6 new'
    assert "<script>" not in str(chart)


def test_the_sources_page_and_the_queue_header(tmp_path: Path) -> None:
    config = yield_config(tmp_path)
    app = start_serve(config, "--no-scheduler")
    try:
        client = logged_in(app)
        page = client.get("/sources").text
        queue = client.get("/queue").text
        earlier = (NOW - timedelta(days=90)).strftime("%Y-%m")
        then = client.get("/queue", params={"status": "all", "month": earlier}).text
    finally:
        app.stop()
    assert page.count('<svg xmlns="http://www.w3.org/2000/svg" class="weekly"') == 4
    assert "no accepted item in six months" in page and "failing for a week" in page
    assert "nothing new in 60 days" in page
    # this month: Busy Lab's accepted item went to Policy; Equity's was three months ago
    header = queue.split('id="month-sections"', 1)[1].split("</p>", 1)[0]
    assert f"Accepted for {NOW:%Y-%m}:" in header
    assert "Policy <b>1</b>" in header and "Equity <b>0</b>" in header
    # the month filter's month: Quiet Council's item, accepted into Equity
    header = then.split('id="month-sections"', 1)[1].split("</p>", 1)[0]
    assert f"Accepted for {earlier}:" in header
    assert "Policy <b>0</b>" in header and "Equity <b>1</b>" in header

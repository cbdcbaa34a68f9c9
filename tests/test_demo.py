"""The offline demo and the default sources.yaml an operator starts from."""

import email
import email.policy
import json
import re
import signal
import subprocess
import sys
from pathlib import Path

import httpx
from click.testing import CliRunner

from cbewatch.cli import cli
from cbewatch.config import load_config
from cbewatch.demo import DEMO_ACCEPTS

from .conftest import Served, child_env, csrf_from, free_port, wait_until_up

ROOT = Path(__file__).parent.parent
FIELD_TOPICS = [
    "Personalized Learning",
    "Earning Credit for Anytime Anywhere Learning",
    "Equity",
    "Learner-Centered Leadership",
    "Policy",
    "Research and Reports",
    "Grading and Assessment",
    "Innovative Practices",
    "Teacher Resources",
    "News and Blogs",
]
NEWS_OUTLETS = ["The 74", "Education Week", "Edutopia", "The Hechinger Report", "Chalkbeat"]


def test_default_config_lists_the_field() -> None:
    settings = load_config(ROOT / "sources.yaml")
    assert [t.name for t in settings.topics] == FIELD_TOPICS
    assert all(t.keywords for t in settings.topics)
    assert len(settings.sources) >= 25
    names = {s.name for s in settings.sources}
    for org in ("Clayton Christensen Institute", "KnowledgeWorks", "Getting Smart", "XQ Institute"):
        assert org in names
    for outlet in NEWS_OUTLETS:
        source = next(s for s in settings.sources if s.name.startswith(outlet))
        assert source.include, f"{outlet} needs include keywords"
    assert settings.network.allow_hosts == ()
    assert "cbewatch sources" in (ROOT / "sources.yaml").read_text()


def test_demo_fetches_every_kind_offline(tmp_path: Path) -> None:
    topics = (ROOT / "sources.yaml").read_text().split("\ntopics:", 1)[1].split("\nsources:")[0]
    config = tmp_path / "sources.yaml"
    config.write_text(f"data_dir: {tmp_path / 'var'}\ntopics:{topics}\nsources: []\n")
    runner = CliRunner()
    result = runner.invoke(
        cli, ["--config", str(config), "demo", "--no-serve"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    assert "polled 5 sources:" in result.output and "0 failed" in result.output
    demo_config = tmp_path / "var" / "demo" / "sources.yaml"
    assert [t.name for t in load_config(demo_config).topics] == FIELD_TOPICS
    listed = runner.invoke(cli, ["--config", str(demo_config), "items", "--json"])
    items = [json.loads(line) for line in listed.output.splitlines()]
    by_source: dict[str, list[dict]] = {}
    for item in items:
        by_source.setdefault(item["source"], []).append(item)
    assert set(by_source) == {
        "Alder Institute",
        "Bramble Learning Network",
        "Cedar Foundation",
        "Dogwood District Alliance",
        "Elm Policy Center",
    }
    urls = {i["url"] for i in items}
    # Every item has a snippet: list-page and sitemap items from their page (issue 13).
    assert [i["url"] for i in items if not i["summary_text"].strip()] == []
    assert len(by_source["Dogwood District Alliance"]) > 6  # the "Next" page was followed
    assert any(u.endswith(".pdf") for u in urls)
    assert not any("summer-policy-institute-recap" in u for u in urls)  # lastmod too old
    # Cedar links to Alder's toolkit with a tracking link: one item by canonical URL.
    [linked] = [i for i in items if i["also_at"] and i["source"] == "Alder Institute"]
    assert linked["also_at"][0]["source"] == "Cedar Foundation"
    assert "utm_source" in linked["also_at"][0]["url"]
    # Dogwood republishes Cedar's grants release on its own URL: one story by its text.
    [release] = [i for i in items if i["also_at"] and i["source"] == "Cedar Foundation"]
    assert [a["source"] for a in release["also_at"]] == ["Dogwood District Alliance"]
    [copy] = [i for i in items if i["status"] == "duplicate"]
    assert copy["duplicate_of"] == release["id"] and copy["source"] == "Dogwood District Alliance"
    assert "also at Dogwood District Alliance" in result.output
    # Every page was read: article text, not the feed's teaser, and the PDF's title.
    assert all(i["extracted_from"] == "page" for i in items)
    pdf = next(i for i in items if i["url"].endswith(".pdf"))
    assert pdf["title"].startswith("Beyond Seat Time") and len(pdf["text"]) > 500
    assert all("cookies" not in i["text"] for i in items)
    # The approved issue went to the demo's subscribers through its own mail server.
    outbox = tmp_path / "var" / "demo" / "outbox"
    assert re.search(r"sent the \d{4}-\d{2} issue to 3 subscribers\n", result.output)
    assert f"The emails: {outbox}/" in result.output
    emails = sorted(outbox.glob("*.eml"))
    assert [e.name.split("-", 1)[1] for e in emails] == [
        f"{who}.eml" for who in ("ada@example.org", "bao@example.org", "chioma@example.org")
    ]
    message = email.message_from_bytes(emails[0].read_bytes(), policy=email.policy.default)
    assert message["List-Unsubscribe"].startswith("<http://127.0.0.1:8000/unsubscribe/")


def test_demo_ends_serving_the_queue_on_its_items(tmp_path: Path) -> None:
    topics = (ROOT / "sources.yaml").read_text().split("\ntopics:", 1)[1].split("\nsources:")[0]
    config = tmp_path / "sources.yaml"
    config.write_text(f"data_dir: {tmp_path / 'var'}\ntopics:{topics}\nsources: []\n")
    port = free_port()
    command = [sys.executable, "-m", "cbewatch", "--config", str(config), "demo"]
    demo = subprocess.Popen(
        [*command, "--web-port", str(port)],
        env=child_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        lines = [demo.stdout.readline()]  # type: ignore[union-attr]
        while lines[-1] and "The queue:" not in lines[-1]:
            lines.append(demo.stdout.readline())  # type: ignore[union-attr]
        assert f"http://127.0.0.1:{port}/queue" in lines[-1], lines
        login = re.search(r"log in as (\S+) / (\S+);", lines[-1])
        assert login, lines[-1]
        served = Served(f"http://127.0.0.1:{port}", config, demo, tmp_path / "unused.log")
        wait_until_up(served)
        client = httpx.Client(base_url=served.url)
        token = csrf_from(client.get("/login").text)
        form = {"username": login[1], "password": login[2], "csrf_token": token}
        assert client.post("/login", data=form).status_code == 303
        queue = client.get("/queue").text
        # 40 items: the demo curator accepted the best-ranked few into an issue
        assert queue.count('class="item ') == 40 - DEMO_ACCEPTS
        assert "Alder Institute" in queue and "Also at" in queue
        archive_line = demo.stdout.readline()  # type: ignore[union-attr]
        month = re.search(r"/issues/(\d{4}-\d{2})/", archive_line)
        assert month and "The archive:" in archive_line, archive_line
        public = httpx.Client(base_url=served.url)  # no login: the archive is public
        assert f"/issues/{month[1]}/" in public.get("/").text
        page = public.get(f"/issues/{month[1]}/")
        assert page.status_code == 200 and page.text.count("<li") >= DEMO_ACCEPTS // 2
    finally:
        demo.send_signal(signal.SIGTERM)
        assert demo.wait(10) == 0

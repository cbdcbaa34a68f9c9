"""What curators meet first (issue 15, points 7, 8, 10 and 11), in Debian's Chromium and
over HTTP: a queue that reads at a glance on the demo's data with the default ten
sections, every page fitting a 390 px phone, times shown in the configured zone, the
sources page's poll note, and the small things (favicon, messages, a stale curator)."""

from __future__ import annotations

import re
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from playwright.sync_api import Browser, Page, expect

from cbewatch.config import load_config
from cbewatch.demo import DEMO_PASSWORD, DEMO_USER
from cbewatch.demo.server import Route, SiteServer
from cbewatch.model.types import QueueQuery
from cbewatch.web.pages import local_moment, score_level

from .conftest import (
    CHROMIUM,
    ROOT,
    Served,
    child_env,
    csrf_from,
    logged_in,
    sample_entries,
    seed,
    serve_config,
    start_serve,
)
from .test_browser import log_in, new_page, queue_ids, status_of

needs_chromium = pytest.mark.skipif(not CHROMIUM.exists(), reason="make test installs chromium")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}
ZONE = "America/New_York"  # the demo's pages show times in it (EST in winter: UTC-5)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    """`cbewatch demo --no-serve` with the default config's ten sections, then `serve`
    on its database (the demo curator's issue approved, a subscriber with a long
    address), its pages' times in ZONE."""
    folder = tmp_path_factory.mktemp("demo")
    topics = (ROOT / "sources.yaml").read_text().split("\ntopics:", 1)[1].split("\nsources:")[0]
    config = folder / "sources.yaml"
    config.write_text(f"data_dir: {folder / 'var'}\ntopics:{topics}\nsources: []\n")
    command = [sys.executable, "-m", "cbewatch", "--config", str(config), "demo", "--no-serve"]
    subprocess.run(command, env=child_env(), check=True, capture_output=True, timeout=300)
    demo_config = folder / "var" / "demo" / "sources.yaml"
    with demo_config.open("a") as file:
        file.write(f"timezone: {ZONE}\n")
    subscribers = [
        sys.executable,
        "-m",
        "cbewatch",
        "--config",
        str(demo_config),
        "subscribers",
        "add",
        "margaret.oyelaran-whitfield.curriculum@dogwood-district-alliance.example.org",
        "--confirmed",
    ]
    subprocess.run(subscribers, env=child_env(), check=True, capture_output=True, timeout=60)
    app = start_serve(demo_config, "--no-scheduler")
    yield app
    app.stop()


def demo_login(browser: Browser, served: Served, viewport: dict[str, int]) -> Page:
    page = browser.new_context(viewport=viewport).new_page()
    page.goto(served.url + "/login")
    page.fill("input[name=username]", DEMO_USER)
    page.fill("input[name=password]", DEMO_PASSWORD)
    page.press("input[name=password]", "Enter")
    expect(page).to_have_url(f"{served.url}/queue")
    page.wait_for_selector("body[data-keys=ready]")
    return page


def issue_month(served: Served) -> str:
    with served.store() as store:
        [(month, *_)] = store.issues.months()
    return month


def width(page: Page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@needs_chromium
def test_every_page_fits_a_phone(browser: Browser, demo: Served) -> None:
    """At 390 px no page scrolls sideways (the sources page was 592 px wide)."""
    month = issue_month(demo)
    public = browser.new_context(viewport=PHONE).new_page()
    widths = {}
    for path in ("/login", "/", f"/issues/{month}/", "/subscribe"):
        public.goto(demo.url + path)
        widths[path] = width(public)
    page = demo_login(browser, demo, PHONE)
    item_id = queue_ids(demo)[0]
    for path in (
        "/queue",
        "/queue?status=all",  # decided items too, with their verdicts
        f"/items/{item_id}",
        "/items/999999",  # the error page
        "/sources",
        "/issues",
        f"/issues/{month}/edit",
        f"/issues/{month}/preview",  # the email
        "/subscribers",
        "/logout",
    ):
        page.goto(demo.url + path)
        widths[path] = width(page)
        if path == "/subscribers":
            assert "dogwood-district-alliance" in page.content()  # the long address shows
    assert {path: w for path, w in widths.items() if w > PHONE["width"]} == {}, widths


def option_room(page: Page, selector: str) -> list[tuple[float, float]]:
    """Each matching picker's widest option text (in the picker's own font) and the
    room the picker gives it."""
    return page.eval_on_selector_all(
        selector,
        """(pickers) => pickers.map((picker) => {
            const context = document.createElement("canvas").getContext("2d");
            context.font = getComputedStyle(picker).font;
            const texts = Array.from(picker.options, (o) => context.measureText(o.text).width);
            const widest = Math.max(...texts);
            return [widest, picker.clientWidth - 20];  // less the arrow
        })""",
    )


@needs_chromium
@pytest.mark.parametrize("viewport", [DESKTOP, PHONE], ids=["1280", "390"])
def test_long_section_names_fit_the_topic_picker(
    browser: Browser, demo: Served, viewport: dict[str, int]
) -> None:
    page = demo_login(browser, demo, viewport)
    rooms = option_room(page, "#queue .item select[name=topic]")
    assert rooms and all(widest <= room for widest, room in rooms), rooms[:3]


@needs_chromium
def test_the_queue_reads_at_a_glance(browser: Browser, demo: Served) -> None:
    page = demo_login(browser, demo, DESKTOP)
    first, second = queue_ids(demo)[:2]
    card = page.locator(f"#item-{first}")

    # Accept and Reject differ in colour and in label, not only in place.
    accept, reject = card.locator("button[value=accept]"), card.locator("button[value=reject]")
    colours = [b.evaluate("b => getComputedStyle(b).backgroundColor") for b in (accept, reject)]
    undo = card.locator("button[value=undo]").evaluate("b => getComputedStyle(b).backgroundColor")
    assert len({*colours, undo}) == 3, colours
    expect(accept).to_have_text(re.compile(r"✓\s*Accept"))
    expect(reject).to_have_text(re.compile(r"✗\s*Reject"))

    # The score reads as a level, the number only in its label.
    score = card.locator(".score")
    expect(score).to_have_attribute(
        "aria-label", re.compile(r"^relevance (high|medium|low) \(score [01]\.\d\d\)$")
    )
    expect(score).to_have_text(re.compile(r"^\s*(high|medium|low)\s*$"))
    assert not re.search(r"\d\.\d\d", card.locator(".meta").inner_text())

    # A count of what is in view, and a way out of a search.
    with demo.store() as store:
        new = len(store.items.find(status="new"))
        portfolio = len(store.queue.page(QueueQuery(status="new", search="portfolio"))[0])
    assert 0 < portfolio < new
    expect(page.locator("#count")).to_have_text(re.compile(rf"^{new} items in view\.$"))
    page.fill("#search", "portfolio")
    page.press("#search", "Enter")
    expect(page.locator("#count")).to_contain_text(f"{portfolio} item")
    page.click("#clear-search")
    expect(page).to_have_url(f"{demo.url}/queue?status=new&source=&topic=&month=")
    expect(page.locator("#search")).to_have_value("")
    expect(page.locator("#count")).to_have_text(re.compile(rf"^{new} items in view\.$"))
    page.wait_for_selector("body[data-keys=ready]")

    # The blurb box shows three lines.
    blurb = card.locator("textarea[name=blurb]")
    lines = blurb.evaluate("t => t.clientHeight / parseFloat(getComputedStyle(t).lineHeight)")
    assert lines >= 3, lines

    # The tenth section has a key (0), and the key list says so.
    tenth = [t.name for t in load_config(demo.config).topics][9]
    page.keyboard.press("0")
    expect(card.locator(".topic")).to_have_text(tenth)
    page.keyboard.press("?")
    expect(page.locator("#keys")).to_contain_text(f"0 {tenth}")
    page.keyboard.press("Escape")

    # A decided item says so in words; the highlight moved on to the next.
    page.keyboard.press("a")
    expect(card.locator(".verdict")).to_have_text(f"✓ Accepted into {tenth}")
    page.keyboard.press("r")
    expect(page.locator(f"#item-{second} .verdict")).to_have_text(
        "✗ Rejected: it stays out of the newsletter"
    )


@needs_chromium
def test_times_are_shown_in_the_configured_zone(browser: Browser, demo: Served) -> None:
    """The config's `timezone` (America/New_York) rules every time the pages show: the
    audit's moment is the stored UTC one, five hours earlier, with its zone."""
    item_id = queue_ids(demo)[-1]
    page = demo_login(browser, demo, DESKTOP)
    page.goto(f"{demo.url}/items/{item_id}")
    page.click(f"#item-{item_id} button[value=reject]")
    expect(status_of(page, item_id)).to_have_text("rejected")
    page.reload()
    with demo.store() as store:
        [row] = store.decisions.audit_log(item_id)
    stored = datetime.fromisoformat(row.at.replace("Z", "+00:00"))
    expected = stored.astimezone(ZoneInfo(ZONE)).strftime("%Y-%m-%d %H:%M %Z")
    assert expected.endswith((" EST", " EDT"))
    expect(page.locator(".audit td").first).to_have_text(expected)
    page.goto(demo.url + "/sources")
    expect(page.locator("table.sources")).to_contain_text("EST")


def test_a_moment_is_shown_in_the_zone_with_its_name() -> None:
    new_york, paris = ZoneInfo("America/New_York"), ZoneInfo("Europe/Paris")
    assert local_moment("2026-12-04T13:05:00Z", new_york) == "2026-12-04 08:05 EST"
    assert local_moment("2026-07-04T13:05:00Z", new_york) == "2026-07-04 09:05 EDT"
    assert local_moment("2026-12-04T23:30:00Z", paris) == "2026-12-05 00:30 CET"
    assert local_moment(None, paris) == "—"
    # No zone configured: the server's own, named.
    here = datetime(2026, 12, 4, 13, 5, tzinfo=UTC).astimezone()
    assert local_moment("2026-12-04T13:05:00Z", None) == here.strftime("%Y-%m-%d %H:%M %Z")


@needs_chromium
def test_the_item_page_shows_the_title_once(browser: Browser, demo: Served) -> None:
    """The demo's podcast page has a category ("Leadership") and its title above the
    text: the item page shows the title in its heading, and the text starts with the
    story."""
    with demo.store() as store:
        [podcast] = [i for i in store.items.find() if i.title and i.title.startswith("Podcast:")]
    page = demo_login(browser, demo, DESKTOP)
    page.goto(f"{demo.url}/items/{podcast.id}")
    text = page.locator("section.text").inner_text()
    assert text.split("\n", 1)[1].strip().startswith("In the latest episode"), text[:120]
    assert podcast.title not in text and "Leadership" not in text


@needs_chromium
def test_a_stale_curator_moves_on_after_a_conflict(browser: Browser, fresh_served: Served) -> None:
    """Bob's queue is stale: his "r" on an item alice accepted is refused and shows who
    decided; his highlight moves on, so his next "r" rejects the next item, not that one."""
    alice, bob = new_page(browser), new_page(browser)
    log_in(alice, fresh_served, "alice")
    log_in(bob, fresh_served, "bob")
    first, second = queue_ids(fresh_served)[:2]
    alice.keyboard.press("a")
    expect(status_of(alice, first)).to_have_text("accepted")
    bob.keyboard.press("r")
    expect(bob.locator(f"#item-{first} .message")).to_have_text(
        f"Item {first} was changed by alice after you opened it, so your change was not "
        "saved. Now: accepted."
    )
    expect(bob.locator(f"#item-{second}")).to_have_class(re.compile(r"\bcurrent\b"))
    bob.keyboard.press("r")
    expect(status_of(bob, second)).to_have_text("rejected")
    with fresh_served.store() as store:
        assert store.items.get(first).status == "accepted"
        assert store.items.get(second).status == "rejected"


def message_of(html: str) -> str:
    match = re.search(r'<p class="message" role="alert">(.*?)</p>', html, re.S)
    assert match, "no message on the page"
    return re.sub(r"<[^>]+>", "", match.group(1))


def test_refusals_read_as_sentences(served: Served) -> None:
    """A stale change names who made the change and what the item is now, with no
    stray quote; an undo with nothing to undo is a sentence of its own."""
    alice, bob = logged_in(served, "alice"), logged_in(served, "bob")
    token = csrf_from(alice.get("/items/6").text)
    form = {"version": "1", "csrf_token": token}
    alice.post("/items/6", data={**form, "action": "blurb", "blurb": "A pilot “that worked”."})
    stale = bob.post(
        "/items/6",
        data={**form, "action": "reject", "csrf_token": csrf_from(bob.get("/queue").text)},
    )
    assert stale.status_code == 409
    assert message_of(stale.text) == (
        "Item 6 was changed by alice after you opened it, so your change was not saved. Now: new."
    )
    nothing = alice.post("/items/7", data={**form, "action": "undo"})
    assert nothing.status_code == 409
    assert message_of(nothing.text) == "Item 7 has no decision to undo. Now: new."


def test_redo_is_logged_as_redo(served: Served) -> None:
    alice = logged_in(served, "alice")
    token = csrf_from(alice.get("/items/5").text)
    for action in ("accept", "undo", "undo"):
        done = alice.post("/items/5", data={"action": action, "csrf_token": token})
        assert done.status_code == 303, done.text
    history = alice.get("/items/5").text.split("History", 1)[1]
    actions = re.findall(r"<td>alice</td><td>(\w+)</td>", history)
    assert actions == ["redo", "undo", "accept"]


def test_the_blurb_box_opens_with_the_draft(served: Served) -> None:
    """Item 7 ("Post 6 on agency", nobody's blurb): the box holds its draft, written here
    by hand from the rules in model/drafts.py; a saved blurb replaces it."""
    alice = logged_in(served, "alice")
    page = alice.get("/items/7").text
    box = page.split('<textarea name="blurb"', 1)[1].split("</textarea>", 1)[0]
    assert box.endswith(
        ">From Alder Institute: “Post 6 on agency.” What one district learned about agency "
        "this fall."
    )
    token = csrf_from(page)
    form = {"action": "blurb", "blurb": "Our own words.", "csrf_token": token}
    assert alice.post("/items/7", data=form).status_code == 303
    box = alice.get("/items/7").text.split('<textarea name="blurb"', 1)[1].split("</textarea>")[0]
    assert box.endswith(">Our own words.")


def test_the_favicon_is_ours(served: Served) -> None:
    icon = httpx.get(served.url + "/favicon.ico")  # no session: browsers ask before login
    assert icon.status_code == 200 and icon.headers["content-type"] == "image/x-icon"
    assert icon.content[:4] == b"\x00\x00\x01\x00"  # an ICO file's header
    assert icon.content == (ROOT / "src/cbewatch/web/static/favicon.ico").read_bytes()


SLOW_FEED = """<?xml version="1.0"?><rss version="2.0"><channel><title>Slow</title>
<item><title>Mastery grading in Slow County</title><link>{base}/slow/1</link></item>
</channel></rss>"""


@needs_chromium
@pytest.mark.timeout(300)
def test_the_poll_note_shows_only_while_the_poll_runs(browser: Browser, tmp_path: Path) -> None:
    """ "Poll due sources now" shows a note while the poll runs; once it ends the page
    reloads by itself with the results, and the note is gone for good (reloading the
    address the button led to shows it no more)."""
    with SiteServer() as site:
        feed = SLOW_FEED.format(base=site.base_url)
        site.add("/slow.xml", Route(feed, content_type="application/rss+xml", delay=3))
        site.add("/slow/1", Route("<html><body><p>Mastery grading.</p></body></html>"))
        sources = f"sources:\n  - name: Slow\n    url: {site.url('/slow.xml')}\n"
        config = serve_config(tmp_path, sources, allow=[site.host_port])
        seed(config, [])
        app = start_serve(config, "--no-scheduler")
        try:
            page = new_page(browser)
            log_in(page, app, "alice")
            page.goto(app.url + "/sources")
            expect(page.locator("#poll-status")).to_have_count(0)
            page.click("#poll-due")
            expect(page.locator("#poll-status")).to_contain_text("A poll is running")
            # the poll reads the slow feed, then ranks (a new data directory trains the
            # field examples' classifier first): a minute or more on a loaded machine
            expect(page).to_have_url(f"{app.url}/sources?notice=done", timeout=120_000)
            expect(page.locator(".message")).to_have_text(
                "The poll has ended: the table shows its results."
            )
            expect(page.locator("table.sources")).to_contain_text("Slow")
            stale = httpx.get(
                f"{app.url}/sources?notice=started",
                cookies=dict((c["name"], c["value"]) for c in page.context.cookies()),
            )
            assert "poll-status" not in stale.text and "A poll is running" not in stale.text
        finally:
            app.stop()
    with app.store() as store:
        assert [i.title for i in store.items.find()] == ["Mastery grading in Slow County"]


def test_a_long_queue_is_counted_up_to_a_thousand(tmp_path: Path) -> None:
    """Counting every item of a long queue costs more than the page: past 1,000 the
    count says "more than"."""
    config = serve_config(tmp_path)
    seed(config, sample_entries(1001))
    app = start_serve(config, "--no-scheduler")
    try:
        queue = logged_in(app).get("/queue").text
        count = re.sub(r"<[^>]+>", "", re.search(r'id="count">(.*?)</p>', queue, re.S)[1])
        assert count == "More than 1000 items in view (50 on this page)."
        search = logged_in(app).get("/queue?q=portfolio").text  # items 4, 12, … 996
        count = re.sub(r"<[^>]+>", "", re.search(r'id="count">(.*?)</p>', search, re.S)[1])
        assert count == "125 items in view (50 on this page). Clear the search “portfolio”"
    finally:
        app.stop()


@pytest.mark.parametrize(
    ("score", "level"),
    [
        (1.0, "high"),
        (2 / 3, "high"),
        (0.66, "medium"),
        (1 / 3, "medium"),
        (0.33, "low"),
        (0.0, "low"),
    ],
)
def test_a_score_reads_as_a_third_of_the_scale(score: float, level: str) -> None:
    assert score_level(score) == level

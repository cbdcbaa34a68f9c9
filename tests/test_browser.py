"""The curators' queue in Debian's Chromium (Playwright, never a downloaded browser):
log in, triage by keyboard, search, a conflict between two curators, logout, and
hostile item text that must run no script."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from cbewatch.model.types import Entry, QueueQuery

from .conftest import (
    CHROMIUM,
    PASSWORD,
    Served,
    sample_entries,
    seed,
    serve_config,
    start_serve,
)

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="make test installs chromium")


def new_page(browser: Browser) -> Page:
    """A fresh browser context (its own cookies) that records script dialogs and scripts
    the CSP blocked, so a test can assert there were none."""
    page = browser.new_context().new_page()
    page.dialogs = []  # type: ignore[attr-defined]
    page.csp_errors = []  # type: ignore[attr-defined]
    page.on("dialog", lambda d: (page.dialogs.append(d.message), d.dismiss()))  # type: ignore[attr-defined]
    page.on(
        "console",
        lambda m: "script-src" in m.text and page.csp_errors.append(m.text),  # type: ignore[attr-defined]
    )
    return page


def log_in(page: Page, served: Served, user: str) -> None:
    page.goto(served.url + "/queue")
    expect(page).to_have_url(f"{served.url}/login?next=/queue")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    expect(page).to_have_url(f"{served.url}/queue")
    page.wait_for_selector("body[data-keys=ready]")


def queue_ids(served: Served) -> list[int]:
    with served.store() as store:
        return [item.id for item in store.queue.page(QueueQuery(), limit=50)[0]]


def status_of(page: Page, item_id: int):
    return page.locator(f"#item-{item_id} .status")


def test_login_keyboard_triage_search_and_logout(browser: Browser, served: Served) -> None:
    page = new_page(browser)
    log_in(page, served, "alice")
    first, second, third, fourth, fifth = queue_ids(served)[:5]
    page.keyboard.press("a")
    expect(status_of(page, first)).to_have_text("accepted")
    page.keyboard.press("r")  # the highlight moved on after the accept
    expect(status_of(page, second)).to_have_text("rejected")
    page.keyboard.press("2")
    expect(page.locator(f"#item-{third} .topic")).to_have_text("Grading and Assessment")
    page.keyboard.press("e")
    expect(page.locator(f"#item-{third} textarea")).to_be_focused()
    page.keyboard.type("A district rethinks report cards.")
    page.keyboard.press("Control+Enter")
    expect(page.locator(f"#item-{third} .blurb")).to_have_text("A district rethinks report cards.")
    page.keyboard.press("j")
    page.keyboard.press("a")
    expect(status_of(page, fourth)).to_have_text("accepted")
    page.keyboard.press("k")
    page.keyboard.press("u")
    expect(status_of(page, fourth)).to_have_text("new")
    page.keyboard.press("j")
    page.keyboard.press("r")
    expect(status_of(page, fifth)).to_have_text("rejected")
    with served.store() as store:
        decided = {i: store.items.get(i) for i in (first, second, third, fourth, fifth)}
    assert [decided[i].status for i in (first, second, fourth, fifth)] == [
        "accepted",
        "rejected",
        "new",
        "rejected",
    ]
    assert decided[third].topic == "Grading and Assessment"
    assert decided[third].blurb == "A district rethinks report cards."

    page.keyboard.press("?")
    expect(page.locator("#keys")).to_be_visible()
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    page.keyboard.type("portfolio")
    page.keyboard.press("Enter")
    expect(page.locator("#queue .item")).to_have_count(1)
    expect(page.locator("#queue .item h2")).to_contain_text("portfolio")

    page.click("#logout")
    expect(page).to_have_url(f"{served.url}/login")
    page.goto(served.url + "/queue")
    expect(page).to_have_url(f"{served.url}/login?next=/queue")
    assert page.dialogs == [] and page.csp_errors == []  # type: ignore[attr-defined]


def test_two_curators_on_one_item(browser: Browser, served: Served) -> None:
    alice, bob = new_page(browser), new_page(browser)
    log_in(alice, served, "alice")
    log_in(bob, served, "bob")
    item_id = queue_ids(served)[0]
    for page in (alice, bob):
        page.goto(f"{served.url}/items/{item_id}")
    alice.click(f"#item-{item_id} button[value=accept]")
    expect(status_of(alice, item_id)).to_have_text("accepted")
    bob.click(f"#item-{item_id} button[value=reject]")
    refusal = bob.locator(f"#item-{item_id} .message")
    expect(refusal).to_contain_text("changed by alice")
    expect(status_of(bob, item_id)).to_have_text("accepted")  # bob now sees the truth
    with served.store() as store:
        assert store.items.get(item_id).status == "accepted"
    bob.reload()
    expect(bob.locator(".audit")).to_contain_text("alice")


HOSTILE = '<script>alert("title")</script><img src=x onerror=alert("img")>'


def test_hostile_item_text_runs_no_script(browser: Browser, tmp_path: Path) -> None:
    config = serve_config(tmp_path)
    hostile = Entry(
        url="https://alder.example.org/posts/hostile",
        title=HOSTILE,
        summary=HOSTILE + '<a href="javascript:alert(1)">x</a><svg onload=alert(3)>',
        summary_text=HOSTILE,
        published=datetime(2026, 11, 20, tzinfo=UTC),
    )
    seed(config, [hostile, *sample_entries(2)])
    app = start_serve(config, "--no-scheduler")
    try:
        page = new_page(browser)
        log_in(page, app, "alice")
        expect(page.locator("#queue .item h2").first).to_contain_text('alert("title")')
        page.goto(app.url + "/items/1")
        expect(page.locator("h2").first).to_contain_text("<img src=x")
        page.wait_for_timeout(300)
        assert page.dialogs == [] and page.csp_errors == []  # type: ignore[attr-defined]
    finally:
        app.stop()


def test_every_action_works_without_javascript(browser: Browser, served: Served) -> None:
    page = browser.new_context(java_script_enabled=False).new_page()
    page.goto(served.url + "/login")
    page.fill("input[name=username]", "bob")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    item_id = queue_ids(served)[-1]
    page.goto(f"{served.url}/items/{item_id}")
    page.select_option(f"#item-{item_id} select[name=topic]", "Equity")
    page.click(f"#item-{item_id} button[value=topic]")
    expect(page.locator(f"#item-{item_id} .topic")).to_have_text("Equity")
    expect(page).to_have_url(f"{served.url}/items/{item_id}")
    page.fill(f"#item-{item_id} textarea[name=blurb]", "Plain forms still work.")
    page.click(f"#item-{item_id} button[value=blurb]")
    expect(page.locator(f"#item-{item_id} .blurb")).to_have_text("Plain forms still work.")
    page.click(f"#item-{item_id} button[value=accept]")
    expect(status_of(page, item_id)).to_have_text("accepted")

"""The issue editor in Debian's Chromium (Playwright, never a downloaded browser): reorder
by keyboard and by drag, move an item to another section, write a blurb and see it in the
preview, approve, a later edit makes revision 2, and two curators at once."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect

from cbewatch.config import load_config

from .conftest import CHROMIUM, PASSWORD, Served, start_serve, write_config
from .test_browser import new_page
from .test_issue_web import MONTH, TOPICS, seed_issue_items

pytestmark = pytest.mark.skipif(not CHROMIUM.exists(), reason="make test installs chromium")

P1, P2, P3 = (f"https://alder.example.org/p/{n}" for n in (1, 2, 3))


@pytest.fixture
def served(tmp_path: Path) -> Iterator[Served]:
    config = write_config(tmp_path, TOPICS)
    seed_issue_items(config)
    app = start_serve(config, "--no-scheduler")
    yield app
    app.stop()


def open_editor(page: Page, served: Served, user: str, start: bool = False) -> None:
    page.goto(f"{served.url}/login?next=/issues/{MONTH}/edit")
    page.fill("input[name=username]", user)
    page.fill("input[name=password]", PASSWORD)
    page.press("input[name=password]", "Enter")
    if start:
        page.click("#start-issue")
    page.wait_for_selector("#editor")


def entry(page: Page, url: str):
    return page.locator(f'li.entry[data-url="{url}"]')


def order(page: Page) -> list[tuple[str, str]]:
    """(section, url) of every item as the page shows it."""
    return [
        (li.get_attribute("data-section") or "", li.get_attribute("data-url") or "")
        for li in page.locator("li.entry").all()
    ]


def stored(served: Served):
    with served.store() as store:
        return store.issues.latest(MONTH)


def test_keys_drag_and_a_move_between_sections(browser: Browser, served: Served) -> None:
    page = new_page(browser)
    open_editor(page, served, "alice", start=True)
    assert order(page) == [("Policy", P1), ("Policy", P3), ("Equity", P2)]
    entry(page, P1).focus()
    page.keyboard.press("Alt+ArrowDown")
    expect(page.locator("li.entry").nth(1)).to_have_attribute("data-url", P1)
    expect(entry(page, P1)).to_be_focused()  # focus follows the item after the swap
    page.keyboard.press("Alt+ArrowDown")  # the last of Policy goes to the top of Equity
    expect(entry(page, P1)).to_have_attribute("data-section", "Equity")
    assert order(page) == [("Policy", P3), ("Equity", P1), ("Equity", P2)]
    entry(page, P2).drag_to(entry(page, P1))  # dropped on an item: it goes before it
    expect(page.locator("li.entry").nth(1)).to_have_attribute("data-url", P2)
    item = entry(page, P3)
    item.locator("select[name=section]").select_option("Equity")
    item.get_by_role("button", name="Move", exact=True).click()
    expect(entry(page, P3)).to_have_attribute("data-section", "Equity")
    expected = [("Equity", P2), ("Equity", P1), ("Equity", P3)]
    assert order(page) == expected
    issue = stored(served)
    assert [(s.name, e.url) for s in issue.sections for e in s.entries] == expected
    page.locator(".issue-section").first.locator(".section-name").focus()
    page.keyboard.press("Alt+ArrowDown")  # sections move by keyboard too
    expect(page.locator(".issue-section").first).to_have_attribute("data-section", "Equity")
    policy = page.locator('.issue-section[data-section="Policy"]')
    policy.locator(".section-name").drag_to(page.locator('.issue-section[data-section="Equity"]'))
    expect(page.locator(".issue-section").first).to_have_attribute("data-section", "Policy")
    assert [s.name for s in stored(served).sections] == ["Policy", "Equity"]
    assert page.dialogs == [] and page.csp_errors == []  # type: ignore[attr-defined]


def test_a_blurb_in_the_preview_approval_and_revision_two(
    browser: Browser,
    served: Served,
) -> None:
    page = new_page(browser)
    open_editor(page, served, "alice", start=True)
    blurb = entry(page, P1).locator("textarea[name=blurb]")
    blurb.fill("The Alder Institute follows a district's **first year** of mastery grading.")
    entry(page, P1).get_by_role("button", name="Save blurb", exact=True).click()
    preview = page.frame_locator("iframe.preview")
    expect(preview.locator("strong", has_text="first year")).to_be_visible()
    page.click("#approve")
    expect(page.locator("#editor h1 .status")).to_have_text("approved, revision 1")
    expect(page.locator("#approve")).to_have_count(0)
    entry(page, P3).locator("textarea[name=blurb]").fill("A second look at seat time.")
    entry(page, P3).get_by_role("button", name="Save blurb", exact=True).click()
    expect(page.locator("#editor h1 .status")).to_have_text("draft, revision 2")
    with served.store() as store:
        first = store.issues.revision(MONTH, 1)
        assert first is not None and first.status == "approved"
        assert "second look" not in {e.blurb for e in first.entries}
        assert store.issues.latest(MONTH).revision == 2


def test_two_curators_at_once(browser: Browser, served: Served) -> None:
    ann, bob = new_page(browser), new_page(browser)
    open_editor(ann, served, "alice", start=True)
    open_editor(bob, served, "bob")
    entry(ann, P2).locator("textarea[name=blurb]").fill("Ann's blurb, saved first.")
    entry(ann, P2).get_by_role("button", name="Save blurb", exact=True).click()
    expect(ann.locator("#editor")).to_have_attribute("data-version", "2")
    entry(bob, P2).get_by_role("button", name="Remove", exact=True).click()  # on a page out of date
    expect(bob.locator("#editor .message")).to_contain_text("changed after you opened it")
    expect(entry(bob, P2).locator("textarea[name=blurb]")).to_have_value(
        "Ann's blurb, saved first."
    )  # bob now sees the issue as it is
    issue = stored(served)
    assert issue.version == 2 and P2 in {e.url for e in issue.entries}
    entry(bob, P2).get_by_role("button", name="Remove", exact=True).click()  # now it counts
    expect(entry(bob, P2)).to_have_count(0)
    assert P2 not in {e.url for e in stored(served).entries}
    assert load_config(served.config).db_path.exists()

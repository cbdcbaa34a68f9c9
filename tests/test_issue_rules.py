"""The issue's rules as tables: which accepted items a month's draft gathers and where,
carry-over, and every edit a curator may make (and the ones refused)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from cbewatch.errors import IssueError
from cbewatch.model.types import Issue, IssueEntry, IssueSection, Item
from cbewatch.newsletter import assemble, edits

TOPICS = ("Personalized Learning", "Grading and Assessment", "Policy")


def item(n: int, published: str | None, topic: str | None, blurb: str | None = None) -> Item:
    return Item(
        id=n,
        url=f"https://org{n}.example.org/p/{n}",
        canonical_url=f"https://org{n}.example.org/p/{n}",
        source=f"Org {n}",
        status="accepted",
        first_seen="2026-12-01T09:00:00Z",
        published=published,
        title=f"Piece {n}",
        topic=topic,
        blurb=blurb,
    )


ITEMS = [
    item(1, "2026-11-20T10:00:00Z", "Policy", "Org 1 tracks new state laws."),
    item(2, "2026-11-03T10:00:00Z", "Personalized Learning"),
    item(3, "2026-10-30T10:00:00Z", "Policy"),  # October: carry-over material
    item(4, None, "Grading and Assessment"),  # no date: first seen in December
    item(5, "2026-11-05T10:00:00Z", "Robotics"),  # a topic since removed from the config
    item(6, "2026-11-01T00:00:00Z", "Policy"),
]


def draft(used: set[int] = frozenset()) -> Issue:  # type: ignore[assignment]
    return assemble.new_draft("2026-11", "What's New", TOPICS, ITEMS, set(used))


def layout(issue: Issue) -> list[tuple[str, list[int | None]]]:
    return [(s.name, [e.item_id for e in s.entries]) for s in issue.sections]


def test_a_months_draft_gathers_its_accepted_items_by_topic_in_config_order() -> None:
    assert layout(draft()) == [
        ("Personalized Learning", [2]),
        ("Grading and Assessment", []),
        ("Policy", [6, 1]),  # oldest first
        (assemble.OTHER_SECTION, [5]),
    ]


def test_items_of_another_issue_stay_out() -> None:
    assert layout(draft(used={1, 5})) == [
        ("Personalized Learning", [2]),
        ("Grading and Assessment", []),
        ("Policy", [6]),
    ]


def test_the_curators_blurb_else_a_placeholder() -> None:
    by_id = {e.item_id: e for e in draft().entries}
    assert by_id[1].blurb == "Org 1 tracks new state laws." and not by_id[1].placeholder
    assert by_id[2].placeholder and "Piece 2" in by_id[2].blurb and "Org 2" in by_id[2].blurb
    assert (by_id[2].url, by_id[2].organization) == ("https://org2.example.org/p/2", "Org 2")


@pytest.mark.parametrize(
    ("month", "used", "offered"),
    [
        ("2026-11", set(), [3]),  # October's item, for November's issue
        ("2026-12", set(), [1, 2, 3, 5, 6]),  # not item 4: that is December's own
        ("2026-12", {1, 3}, [2, 5, 6]),
        ("2026-10", set(), []),
    ],
)
def test_carry_over_offers_earlier_unused_items(month: str, used: set, offered: list) -> None:
    found = assemble.carry_over_candidates(month, ITEMS, used)
    assert sorted(i.id for i in found) == offered


def test_adding_items_keeps_the_ones_there_and_makes_the_other_section_once() -> None:
    issue = assemble.add_items(draft(), [ITEMS[2], ITEMS[0]])  # 3 is new, 1 is in already
    assert layout(issue)[2] == ("Policy", [6, 1, 3])
    assert [s.name for s in issue.sections].count(assemble.OTHER_SECTION) == 1


ISSUE = Issue(
    month="2026-11",
    title="What's New",
    sections=(
        IssueSection("A", (IssueEntry("u1", "T1", "O1", "b1"), IssueEntry("u2", "T2", "O2", "b2"))),
        IssueSection("B", (IssueEntry("u3", "T3", "O3", "b3"),)),
        IssueSection("C"),
    ),
)


def shape(issue: Issue) -> str:
    """ "A[u1 u2] B[u3]": the sections in order, each with its entries in order."""
    return " ".join(f"{s.name}[{' '.join(e.url for e in s.entries)}]" for s in issue.sections)


@pytest.mark.parametrize(
    ("change", "after"),
    [
        (lambda i: edits.move_entry(i, "u2", "A", 0), "A[u2 u1] B[u3] C[]"),
        (lambda i: edits.move_entry(i, "u1", "B", 9), "A[u2] B[u3 u1] C[]"),
        (lambda i: edits.move_entry(i, "u3", "C", 0), "A[u1 u2] B[] C[u3]"),
        (lambda i: edits.move_section(i, "C", 0), "C[] A[u1 u2] B[u3]"),
        (lambda i: edits.move_section(i, "A", 99), "B[u3] C[] A[u1 u2]"),
        (lambda i: edits.remove_entry(i, "u1"), "A[u2] B[u3] C[]"),
        (lambda i: edits.remove_section(i, "A"), "B[u3] C[]"),
        (lambda i: edits.add_section(i, "  Events  "), "A[u1 u2] B[u3] C[] Events[]"),
        (lambda i: edits.rename_section(i, "B", "Research"), "A[u1 u2] Research[u3] C[]"),
    ],
)
def test_edits(change, after: str) -> None:
    assert shape(change(ISSUE)) == after


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda i: edits.move_entry(i, "nope", "A", 0), "no item nope"),
        (lambda i: edits.move_entry(i, "u1", "Z", 0), "no section 'Z'"),
        (lambda i: edits.add_section(i, "B"), "section 'B' already"),
        (lambda i: edits.rename_section(i, "A", "C"), "section 'C' already"),
        (lambda i: edits.add_section(i, "   "), "needs a name"),
        (lambda i: edits.set_blurb(i, "u1", "  "), "cannot be empty"),
        (lambda i: edits.set_blurb(i, "u1", "x" * 1001), "at most 1000"),
        (lambda i: edits.set_text(i, "title", ""), "needs a title"),
        (lambda i: edits.set_text(i, "status", "sent"), "not one of"),
        (lambda i: edits.set_blurb(replace(i, status="approved"), "u1", "new"), "approved"),
    ],
)
def test_edits_that_are_refused(change, message: str) -> None:
    with pytest.raises(IssueError, match=message):
        change(ISSUE)


def test_a_written_blurb_is_no_placeholder_and_spaces_fold() -> None:
    placeheld = replace(
        ISSUE, sections=(IssueSection("A", (IssueEntry("u", "T", "O", "x", placeholder=True),)),)
    )
    entry = edits.set_blurb(placeheld, "u", " A new   brief.\n").entries[0]
    assert (entry.blurb, entry.placeholder) == ("A new brief.", False)


def test_an_approved_issue_is_frozen_and_revised_as_a_new_draft() -> None:
    approved = edits.approve(ISSUE, "2026-12-01T10:00:00Z")
    assert (approved.status, approved.approved_at) == ("approved", "2026-12-01T10:00:00Z")
    revised = edits.next_revision(approved)
    assert (revised.status, revised.revision, revised.approved_at) == ("draft", 2, None)
    assert shape(revised) == shape(approved)

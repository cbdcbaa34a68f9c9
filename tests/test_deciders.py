"""The store's rules as tables: which link to an article is kept and shown, how a page's
title, author and date merge with the source's, when a page's canonical URL becomes the
item's key, and what merging copies of one story does to each item."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from cbewatch.model.deciders import (
    ClusterState,
    PageFacts,
    adopted_key,
    merged_states,
    page_facts,
    plainest,
    published_or_seen,
    shown_place,
    takes_key,
)
from cbewatch.model.types import Entry, Sighting

A = "https://a.org/story"
TRACKED = A + "?utm_source=feed&utm_medium=rss"
AMP = A + "/amp"
SEEN = "2026-11-23T12:00:00Z"


@pytest.mark.parametrize(
    ("urls", "kept"),
    [
        ([A], A),
        ([TRACKED, A], A),  # the plain link wins wherever it comes
        ([A, TRACKED], A),
        ([TRACKED, AMP], AMP),  # one noisy part beats two
        ([A, A + "/"], A),  # equally plain: the first wins
    ],
)
def test_the_plainest_link_of_one_article_is_kept(urls: list[str], kept: str) -> None:
    assert plainest([Entry(url=u) for u in urls]).url == kept


@pytest.mark.parametrize(
    ("published", "stored"),
    [
        (datetime(2026, 11, 2, 8, 30, tzinfo=UTC), "2026-11-02T08:30:00Z"),
        (None, SEEN),  # no date from the source: the first-seen time stands in
    ],
)
def test_a_new_items_date(published: datetime | None, stored: str) -> None:
    assert published_or_seen(published, SEEN) == stored


@pytest.mark.parametrize(
    ("shown", "seen", "now_shown"),
    [
        (TRACKED, Sighting(A, "Alder"), Sighting(A, "Alder")),  # a plainer link takes over
        (A, Sighting(TRACKED, "Bramble"), None),  # a noisier one never does
        (A, Sighting(A + "/", "Bramble"), None),  # nor an equally plain one
    ],
)
def test_which_url_an_item_shows(shown: str, seen: Sighting, now_shown: Sighting | None) -> None:
    assert shown_place(shown, seen) == now_shown


STORED = PageFacts("Feed title", "Ana Ruiz", "2026-11-02T08:30:00Z")
PAGE = PageFacts("Page title", "Page Author", "2026-10-30T00:00:00Z")


@pytest.mark.parametrize(
    ("stored", "read", "replace_title", "kept"),
    [
        # the source's title, author and date win over the page's
        (STORED, PAGE, False, STORED),
        # a title the source only made up from the URL gives way to the page's
        (STORED, PAGE, True, PageFacts("Page title", "Ana Ruiz", STORED.published)),
        # what the source left out, the page fills
        (PageFacts("", None, SEEN), PAGE, False, PAGE),
        (PageFacts(None, None, SEEN), PAGE, False, PAGE),
        # a page without those facts changes nothing
        (PageFacts("", None, SEEN), PageFacts(), False, PageFacts("", None, SEEN)),
        (STORED, PageFacts(), True, STORED),
        # an empty author from the source is still the source's word
        (PageFacts("T", "", SEEN), PAGE, False, PageFacts("T", "", PAGE.published)),
    ],
)
def test_what_an_item_keeps_after_its_page_is_read(
    stored: PageFacts, read: PageFacts, replace_title: bool, kept: PageFacts
) -> None:
    assert page_facts(stored, SEEN, read, replace_title) == kept


@pytest.mark.parametrize(
    ("item_url", "page_canonical", "adopted"),
    [
        ("https://a.org/p?id=3", "https://a.org/story/3", "https://a.org/story/3"),
        ("https://www.a.org/p", "https://a.org/story/", "https://a.org/story"),
        ("https://a.org:8443/p", "https://a.org/story", None),  # another port, another site
        ("https://b.org/reposted", "https://a.org/story", None),  # another site: not adopted
        ("https://a.org/p", None, None),
    ],
)
def test_rel_canonical_is_proposed_only_on_the_same_site(
    item_url: str, page_canonical: str | None, adopted: str | None
) -> None:
    assert adopted_key(item_url, page_canonical) == adopted


@pytest.mark.parametrize(
    ("proposed", "holder", "taken"),
    [
        ("https://a.org/story", None, True),
        ("https://a.org/story", 7, False),  # another item (or this one) has the key already
        (None, None, False),
    ],
)
def test_a_proposed_key_is_taken_only_when_free(
    proposed: str | None, holder: int | None, taken: bool
) -> None:
    assert takes_key(proposed, holder) is taken


def states(*rows: tuple[int, str, int | None, int]) -> dict[int, ClusterState]:
    return {row[0]: ClusterState(*row) for row in rows}


@pytest.mark.parametrize(
    ("members", "merges", "changed"),
    [
        # a copy joins its primary; its version moves so a stale decision is refused
        (states((1, "new", None, 1), (2, "new", None, 1)), [(2, 1)],
         states((2, "duplicate", 1, 2))),
        # the copy's own copies follow it to the new primary
        (states((1, "new", None, 1), (2, "new", None, 3), (3, "duplicate", 2, 2)), [(2, 1)],
         states((2, "duplicate", 1, 4), (3, "duplicate", 1, 2))),
        # a primary that was itself a copy becomes an item of its own again
        (states((1, "duplicate", 2, 2), (2, "accepted", None, 5)), [(2, 1)],
         states((1, "new", None, 2), (2, "duplicate", 1, 6))),
        # pairs apply in order: a chain ends at its last primary
        (states((1, "new", None, 1), (2, "new", None, 1), (3, "new", None, 1)), [(1, 2), (2, 3)],
         states((1, "duplicate", 3, 2), (2, "duplicate", 3, 2))),
        # nothing to merge, nothing changes
        (states((1, "new", None, 1)), [], {}),
    ],
)  # fmt: skip
def test_what_merging_copies_does_to_each_item(
    members: dict[int, ClusterState], merges: list[tuple[int, int]], changed: dict
) -> None:
    assert merged_states(members, merges) == changed

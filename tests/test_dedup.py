"""Deduplication on a written corpus (real SQLite store), and its pure decisions."""

from __future__ import annotations

import itertools
import json
import random
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pytest

from cbewatch.dedup import (
    NUM_PERM,
    OVERLAP_THRESHOLD,
    BandIndex,
    Parts,
    content_hash,
    dedup_new,
    overlap,
    plan_merges,
    sketch,
    words,
)
from cbewatch.extract import read_page
from cbewatch.extract.blocks import sketch_parts
from cbewatch.model.times import from_iso
from cbewatch.model.types import Entry
from cbewatch.sketches import (
    SEED,
    Sketch,
    block_part,
    block_parts,
    minhash,
    shingles,
    sketch_blocks,
)
from cbewatch.store import Store
from tests.conftest import FIXTURES

SITES = Path(__file__).parent.parent / "src/cbewatch/demo/sites"

NOW = datetime(2026, 11, 23, 12, 0, tzinfo=UTC)
CORPUS = json.loads((FIXTURES / "dedup" / "corpus.json").read_text())["documents"]


def load_corpus(
    store: Store, documents: list[dict], known: Callable[[str], tuple[str, Parts]] | None = None
) -> dict[str, int]:
    """Poll each document as its source would, give it its page text, dedup; doc id → item id.
    With `known`, dedup is handed what it makes of each text (as the pipeline hands it the
    words of the pages it read)."""
    for source in sorted({d["source"] for d in documents}):
        store.sources.sync([(source, f"https://feeds.example.org/{len(source)}", "feed")])
    for doc in documents:
        entry = Entry(url=doc["url"], title=doc["title"], published=from_iso(doc["published"]))
        store.sources.record_poll(doc["source"], [entry], NOW)
    ids = {item.url: item.id for item in store.items.find()}
    by_sighting = dict(
        store.db.execute("SELECT url, item_id FROM sightings").fetchall()
    )  # a URL variant is a sighting of the item it collapsed into
    rows = []
    for doc in documents:
        item_id = ids.get(doc["url"]) or by_sighting[doc["url"]]
        rows.append(_page_row(item_id, doc["text"]))
    store.items.record_extractions(rows, NOW)
    item_of = {doc["id"]: ids.get(doc["url"]) or by_sighting[doc["url"]] for doc in documents}
    given = {item_of[doc["id"]]: known(doc["text"]) for doc in documents} if known else None
    dedup_new(store, given)
    return item_of


def _page_row(item_id: int, text: str, **extra: object) -> dict:
    return {"id": item_id, "final": True, "extracted_from": "page", "text": text, "html": "",
            **extra}  # fmt: skip


def roots(store: Store) -> dict[int, int]:
    return {i.id: i.duplicate_of or i.id for i in store.items.find()}


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return Store(tmp_path / "cbewatch.db")


def test_corpus_pairs_meet_the_precision_and_recall_goals(store: Store) -> None:
    item_of = load_corpus(store, CORPUS)
    root = roots(store)
    tp = fp = fn = 0
    same_event_merged = 0
    for a, b in itertools.combinations(CORPUS, 2):
        expected = a["story"] == b["story"]
        found = root[item_of[a["id"]]] == root[item_of[b["id"]]]
        tp += expected and found
        fp += found and not expected
        fn += expected and not found
        if found and not expected and "e" in (a["story"][0], b["story"][0]):
            same_event_merged += 1
    precision, recall = tp / (tp + fp), tp / (tp + fn)
    assert precision >= 0.98 and recall >= 0.95, (precision, recall)
    assert same_event_merged == 0


def test_the_earliest_copy_is_primary_and_lists_every_other_copy(store: Store) -> None:
    item_of = load_corpus(store, CORPUS)
    original = store.items.get(item_of["s1"])
    assert original is not None and original.status == "new"
    sources = {a.source for a in original.also_at}
    assert sources == {
        "Teacher Resources Weekly",  # the URL variant
        "Aspen Math Council",
        "Competency Corner",
        "Mastery Monthly",
    }
    copies = store.items.find(status="duplicate")
    assert {c.duplicate_of for c in copies if c.id == item_of["s1-excerpt"]} == {item_of["s1"]}
    about_us = [item_of[f"sycamore-{n}"] for n in range(1, 5)]
    assert all(store.items.get(i).status == "new" for i in about_us)


def test_a_later_run_folds_a_new_copy_into_the_existing_story(store: Store) -> None:
    first = [d for d in CORPUS if d["id"] in ("s5", "s5-excerpt")]
    item_of = load_corpus(store, first)
    late = [d for d in CORPUS if d["id"] == "s5-new-intro"]
    item_of.update(load_corpus(store, late))
    assert store.items.get(item_of["s5-new-intro"]).duplicate_of == item_of["s5"]
    assert len(store.items.get(item_of["s5"]).also_at) == 2
    assert dedup_new(store).seen == 0  # nothing is sketched twice


def test_an_original_named_by_rel_canonical_wins_over_an_earlier_copy(store: Store) -> None:
    [s2] = [d for d in CORPUS if d["id"] == "s2"]
    early_copy = dict(s2, id="copy", source="Early Reposter", url="https://repost.example.org/a",
                      published="2026-10-01T00:00:00Z")  # fmt: skip
    for doc in (s2, early_copy):
        store.sources.sync([(doc["source"], f"https://f.example.org/{doc['id']}", "feed")])
        entry = Entry(url=doc["url"], published=from_iso(doc["published"]))
        store.sources.record_poll(doc["source"], [entry], NOW)
    ids = {i.url: i.id for i in store.items.find()}
    rows = [
        _page_row(ids[s2["url"]], s2["text"]),
        _page_row(ids[early_copy["url"]], s2["text"] + " Reposted.", page_canonical=s2["url"]),
    ]
    store.items.record_extractions(rows, NOW)
    dedup_new(store)
    assert store.items.get(ids[early_copy["url"]]).duplicate_of == ids[s2["url"]]


@pytest.mark.parametrize(
    ("members", "links", "merges"),
    [
        # earliest published wins
        ([(1, "2026-11-02", None, "new"), (2, "2026-11-01", None, "new")], [(1, 2)], [(1, 2)]),
        # ties go to the first stored
        ([(1, "2026-11-01", None, "new"), (2, "2026-11-01", None, "new")], [(2, 1)], [(2, 1)]),
        # a curated item stays primary
        ([(1, "2026-11-02", None, "accepted"), (2, "2026-11-01", None, "new")], [(1, 2)],
         [(2, 1)]),
        # a copy of an existing copy joins that copy's primary
        ([(1, "2026-11-01", None, "new"), (2, "2026-11-02", 1, "duplicate"),
          (3, "2026-11-03", None, "new")], [(3, 2)], [(3, 1)]),
        # links chain: one primary for the whole group
        ([(1, "2026-11-03", None, "new"), (2, "2026-11-02", None, "new"),
          (3, "2026-11-01", None, "new")], [(1, 2), (2, 3)], [(1, 3), (2, 3)]),
    ],
)  # fmt: skip
def test_plan_merges(members: list[tuple], links: list, merges: list) -> None:
    rows = [
        {"id": i, "published": p, "canonical_url": f"https://a.org/{i}", "page_canonical": None,
         "duplicate_of": d, "status": s}
        for i, p, d, s in members
    ]  # fmt: skip
    assert sorted(plan_merges(links, rows)) == sorted(merges)


def test_normalized_text_ignores_case_punctuation_and_spacing() -> None:
    text = "Districts moving to mastery-based grading share lessons. " * 4
    shouted = text.upper().replace(".", "!").replace(" ", "   ")
    assert content_hash(words(text)) == content_hash(words(shouted)) is not None
    assert content_hash(words("too short to judge")) is None


def test_overlap_is_the_shorter_texts_share() -> None:
    a = np.array([1, 2, 3, 4], dtype=np.uint32)
    b = np.array([3, 4, 5, 6, 7, 8, 9, 10], dtype=np.uint32)
    assert overlap(a, b) == 0.5 == overlap(b, a)


def test_the_band_index_finds_planted_copies_among_many() -> None:
    rng = np.random.default_rng(7)
    signatures = rng.integers(0, 2**32, size=(5000, NUM_PERM), dtype=np.uint32)
    twin = signatures[1234].copy()
    twin[: NUM_PERM // 2] = rng.integers(0, 2**32, size=NUM_PERM // 2, dtype=np.uint32)
    index = BandIndex(np.arange(5000, dtype=np.int64) + 100, signatures)
    assert index.similar(twin) == [1334]
    repeated = sketch("Competency-based learning lets students move on when they are ready. " * 9)
    assert repeated.signature is None  # nine times one sentence is still a short text


# ---------------------------------------------------------------------------------------
# A source's boilerplate: releases that share only their "About us" stay apart.

SYCAMORE = "Sycamore Alliance for Learning"
ABOUT = next(
    d["text"].split("\n\n")[-1] for d in CORPUS if d["id"] == "sycamore-1"
)  # about eighty words
CONVENING = (
    "The Sycamore Alliance for Learning will hold its annual member convening in Columbus on "
    "April 14 and 15. Sessions will focus on student-led conferences, advisory programs and "
    "transcript redesign, with visits to three member high schools."
)
[LONG_RELEASE] = [d["text"].split("\n\n")[0] for d in CORPUS if d["id"] == "sycamore-1"]
SHORT_NEWS = [
    (
        "Sycamore names Dana Ortiz its new director of district partnerships.",
        "Sycamore opens applications for its spring coaching cohort.",
    ),
    (
        "Sycamore names Dana Ortiz its new director of district partnerships. Ortiz led "
        "coaching for twelve rural districts.",
        "Sycamore opens applications for its spring coaching cohort. Teams of three to six "
        "educators may apply until March 1.",
    ),
]


def _docs(*texts: tuple[str, str, str]) -> list[dict]:
    """(doc id, source, text) → corpus documents, one day apart, each its own story."""
    return [
        {"id": doc_id, "story": doc_id, "source": source, "text": text, "title": doc_id,
         "url": f"https://{len(source)}.example.org/{doc_id}",
         "published": f"2026-11-{n + 1:02d}T09:00:00Z"}
        for n, (doc_id, source, text) in enumerate(texts)
    ]  # fmt: skip


def _releases(first: str, second: str) -> list[tuple[str, str, str]]:
    return [
        ("first", SYCAMORE, f"{first}\n\n{ABOUT}"),
        ("second", SYCAMORE, f"{second}\n\n{ABOUT}"),
        ("third", SYCAMORE, f"{CONVENING}\n\n{ABOUT.upper()}"),  # the same, normalized
    ]


@pytest.mark.parametrize(("first", "second"), SHORT_NEWS)
def test_short_releases_that_share_only_their_about_paragraph_stay_apart(
    store: Store, first: str, second: str
) -> None:
    a, b = (sketch(f"{news}\n\n{ABOUT}").shingles for news in (first, second))
    assert overlap(a, b) >= OVERLAP_THRESHOLD  # the full texts alone would merge
    item_of = load_corpus(store, _docs(*_releases(first, second)))
    assert len({roots(store)[i] for i in item_of.values()}) == 3


@pytest.mark.parametrize(("first", "second"), SHORT_NEWS)
@pytest.mark.parametrize("intro", ["", "Reposted from the Sycamore Alliance for Learning.\n\n"])
def test_a_release_republished_by_another_source_is_still_a_copy(
    store: Store, first: str, second: str, intro: str
) -> None:
    copy = ("copy", "Rural Schools Collaborative",
            f"{intro}{first}\n\n{ABOUT}\n\nShared with our members this week.")  # fmt: skip
    item_of = load_corpus(store, _docs(*_releases(first, second), copy))
    root = roots(store)
    assert root[item_of["copy"]] == root[item_of["first"]] == item_of["first"]
    assert len({root[i] for i in item_of.values()}) == 3


@pytest.mark.parametrize("about", ["", f"\n\n{ABOUT}"])
def test_an_excerpt_with_a_new_intro_line_is_still_a_copy(store: Store, about: str) -> None:
    excerpt = " ".join(LONG_RELEASE.split()[:40]) + "."
    documents = _docs(
        ("release", SYCAMORE, f"{LONG_RELEASE}\n\n{ABOUT}"),
        *_releases(*SHORT_NEWS[0])[:2],
        ("excerpt", "Mastery Monthly", f"Reposted from {SYCAMORE}:\n\n{excerpt}{about}"),
    )
    item_of = load_corpus(store, documents)
    root = roots(store)
    assert root[item_of["excerpt"]] == item_of["release"]
    assert len({root[i] for i in item_of.values()}) == 3


# ---------------------------------------------------------------------------------------
# Sketches made where the text is (issue 17): the same values as before, made cheaper.


def test_the_signature_is_datasketchs_minhash_bit_for_bit() -> None:
    """Signatures are stored and compared across runs: the vectorized MinHash must give
    exactly what datasketch's MinHash (affine32, hashfunc=int) gave, on corpus texts and
    on extreme shingle values."""
    from datasketch import MinHash

    sets = [shingles(words(doc["text"])) for doc in CORPUS[:40]]
    sets.append(np.array([0, 1, 2**31, 2**32 - 1], dtype=np.uint32))
    for found in sets:
        reference = MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=int)
        reference.update_batch(found.tolist())
        assert np.array_equal(minhash(found), np.asarray(reference.hashvalues, np.uint32))
    assert minhash(np.empty(0, np.uint32)).tolist() == [2**32 - 1] * NUM_PERM


def _same_sketch(a: Sketch, b: Sketch) -> bool:
    same_signature = (a.signature is None and b.signature is None) or (
        a.signature is not None and b.signature is not None
        and np.array_equal(a.signature, b.signature)
    )  # fmt: skip
    return a.digest == b.digest and np.array_equal(a.shingles, b.shingles) and same_signature


def test_a_text_sketched_from_its_blocks_words_is_sketched_as_the_whole() -> None:
    """Blocks joined by blank lines, whatever their characters (compatibility forms,
    accents, punctuation-only or empty blocks): the same digest, shingles and signature."""
    rng = random.Random(17)
    vocabulary = [
        *words(CORPUS[0]["text"]),
        "Ｆｕｌｌ",
        "ﬁnance",
        "café",
        "Straße",
        "e\u0301",
        "²",
        "—",
    ]
    for _ in range(200):
        blocks = [
            " ".join(rng.choice(vocabulary) for _ in range(rng.randrange(0, 40)))
            for _ in range(rng.randrange(1, 8))
        ]
        whole = sketch("\n\n".join(b for b in blocks if b))
        one_by_one = [block_part(b) for b in blocks]
        assert block_parts(blocks) == one_by_one  # a page's blocks at once, as a worker does
        assert _same_sketch(sketch_blocks(one_by_one), whole)


def test_an_extracted_pages_blocks_carry_its_sketch() -> None:
    page = SITES / "cedar-foundation/news/student-voice-belonging-rigor.html"
    article = read_page("http://127.0.0.1/news/a.html", "text/html", "utf-8", page.read_bytes())
    parts = sketch_parts(article.blocks)
    assert parts is not None and len(parts) == len([b for b in article.blocks if b.text])
    assert _same_sketch(sketch_blocks(parts), sketch(article.text))
    assert sketch(article.text).signature is not None  # a real article, not a teaser


def _by_blocks(text: str) -> tuple[str, Parts]:
    return text, [block_part(p) for p in text.split("\n\n")]


def test_dedup_given_the_pages_words_finds_the_same_stories(tmp_path: Path) -> None:
    plain, given = Store(tmp_path / "plain.db"), Store(tmp_path / "given.db")
    load_corpus(plain, CORPUS)
    load_corpus(given, CORPUS, known=_by_blocks)
    assert roots(given) == roots(plain)
    assert len(set(roots(plain).values())) < len(CORPUS)  # the corpus has copies to find


def test_words_made_for_another_text_are_not_used(tmp_path: Path) -> None:
    """A page's text changed after its words were made (its site's chrome stripped later
    in the run): dedup sketches the stored text, never the stale words."""
    plain, stale = Store(tmp_path / "plain.db"), Store(tmp_path / "stale.db")
    load_corpus(plain, CORPUS)
    unrelated = _by_blocks(CORPUS[0]["text"])[1]
    load_corpus(stale, CORPUS, known=lambda text: ("Chrome. " + text, unrelated))
    assert roots(stale) == roots(plain)

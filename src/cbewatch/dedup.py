"""One item per story: the same normalized text, then near-duplicates (MinHash sketches
from `sketches.py`, banded LSH to find candidates, the exact shingle overlap to decide).

Canonical URLs (step a) live in `urls.py` and are applied when items are stored. Two
stories written independently about one event must never merge: a pair is one story
only when most of the shorter text is also in the longer one.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .sketches import (
    MIN_SHINGLES,
    NUM_PERM,
    BlockPart,
    Sketch,
    content_hash,
    shingles,
    sketch,
    sketch_blocks,
    words,
)
from .store import Store
from .urls import canonical_url

__all__ = ["NUM_PERM", "BandIndex", "DedupReport", "content_hash", "dedup_new", "sketch", "words"]

Parts = list[BlockPart]  # a text's blocks' shares of its sketch (sketch_blocks)
BANDS, ROWS = 64, 2  # LSH finds pairs from Jaccard ≈ 0.2 up (P ≈ 0.93 at 0.2, 0.998 at 0.3)
# A candidate pair is checked only if its sketches agree this much: an excerpt a fifth
# as long as the story still passes, unrelated texts almost never do.
MIN_JACCARD = 0.15
# Share of the shorter text's shingles found in the longer one (the overlap coefficient)
# above which two texts are one story. Chosen on tests/fixtures/dedup/corpus.json: real
# copies (new intro or footer, excerpts, reordered paragraphs, changed titles) score 0.87
# and up; short releases that only share a long "About us" paragraph score at most 0.62
# (one-line ones score more: their source's boilerplate is left out, below); same-event
# stories that quote the same person at most 0.21. 0.75 is the middle of the gap.
OVERLAP_THRESHOLD = 0.75
# A paragraph in this many items of one source (each has it with two others) is that
# source's boilerplate ("About us", a contact line): no evidence that two texts are one story.
BOILERPLATE_ITEMS = 3
# What is left of a text without boilerplate: under MIN_SHINGLES it must be all in the other
# text, and at least this long (a sentence of eight words).
MIN_STORY_SHINGLES = 5
_PARAGRAPH_BREAK = re.compile(r"\n[^\S\n]*\n")
_HEAD = re.compile(r"\W*(\w+)\W+(\w+)\W+(\w+)")  # the first three words
_BAND_SALT = (np.arange(BANDS, dtype=np.uint64) * np.uint64(0x9E3779B97F4A7C15)).reshape(1, -1)


# ---------------------------------------------------------------------------------------
# Sketches (`sketches.py`) compared: pure.


def overlap(a: np.ndarray, b: np.ndarray) -> float:
    """Share of the smaller shingle set that is in the other (sets sorted, distinct)."""
    if not len(a) or not len(b):
        return 0.0
    common = len(np.intersect1d(a, b, assume_unique=True))
    return common / min(len(a), len(b))


def same_story(a: np.ndarray, b: np.ndarray) -> bool:
    """Decided on exact shingle sets, never on the estimate alone."""
    return min(len(a), len(b)) >= MIN_SHINGLES and overlap(a, b) >= OVERLAP_THRESHOLD


def paragraphs(text: str) -> list[str]:
    """The text's paragraphs (blank-line separated), each as its `words` joined."""
    return [key for part in _PARAGRAPH_BREAK.split(text) if (key := " ".join(words(part)))]


def same_story_apart_from(a: str, b: str, boilerplate: set[str]) -> bool:
    """Whether two texts that pass `same_story` are still one story once the paragraphs
    in `boilerplate` are left out of both: a shared "About us" alone does not make two
    releases one. A short remainder (a one-line release) must be all in the other text."""
    kept_a, kept_b = paragraphs(a), paragraphs(b)
    if boilerplate.isdisjoint(kept_a) and boilerplate.isdisjoint(kept_b):
        return True
    rest_a, rest_b = (
        shingles(" ".join(p for p in kept if p not in boilerplate).split())
        for kept in (kept_a, kept_b)
    )
    shorter = min(len(rest_a), len(rest_b))
    if shorter >= MIN_SHINGLES:
        return overlap(rest_a, rest_b) >= OVERLAP_THRESHOLD
    return shorter >= MIN_STORY_SHINGLES and overlap(rest_a, rest_b) == 1.0


# ---------------------------------------------------------------------------------------
# The LSH index: every stored signature, banded, sorted once per run.


def band_keys(signatures: np.ndarray) -> np.ndarray:
    """(n, NUM_PERM) uint32 → (n, BANDS) uint64: each band's two values side by side as
    one key (a view, no copy), salted by band so equal values in different bands differ."""
    pairs = np.ascontiguousarray(signatures, dtype=np.uint32).view(np.uint64)
    return pairs ^ _BAND_SALT


class BandIndex:
    """Items whose signatures share at least one band with a query's.

    One sorted array of every band key, with the item's row packed into the low bits:
    sorting 6.4 million plain integers (100,000 items) takes a tenth of a second where
    an argsort, or datasketch's MinHashLSH of dicts and sets, takes seconds. Dropping
    the key's low bits only adds candidates, which the estimate then filters.
    """

    def __init__(self, ids: np.ndarray, signatures: np.ndarray) -> None:
        self.ids = ids
        self.signatures = signatures
        self._bits = np.uint64(max(1, (len(ids) - 1).bit_length()))
        self._mask = np.uint64((1 << int(self._bits)) - 1)
        rows = np.repeat(np.arange(len(ids), dtype=np.uint64), BANDS)
        packed = (band_keys(signatures).ravel() & ~self._mask) | rows
        packed.sort()
        self._packed = packed

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[int, bytes]]) -> BandIndex:
        """From (item id, signature bytes) rows, as the store keeps them."""
        rows = list(rows)
        ids = np.fromiter((r[0] for r in rows), np.int64, len(rows))
        blob = b"".join(r[1] for r in rows)
        return cls(ids, np.frombuffer(blob, dtype=np.uint32).reshape(len(rows), NUM_PERM))

    def __len__(self) -> int:
        return len(self.ids)

    def similar(self, signature: np.ndarray, min_jaccard: float = MIN_JACCARD) -> list[int]:
        """Ids of the items sharing a band with `signature` whose estimated Jaccard
        similarity is at least `min_jaccard` (the query's own item included)."""
        query = band_keys(signature.reshape(1, NUM_PERM)).ravel() & ~self._mask
        left = np.searchsorted(self._packed, query, side="left")
        lengths = np.searchsorted(self._packed, query | self._mask, side="right") - left
        if not lengths.any():
            return []
        # Every position of every matching range, without a Python loop over bands.
        starts = np.repeat(left - np.cumsum(lengths) + lengths, lengths)
        positions = starts + np.arange(int(lengths.sum()))
        rows = np.unique(self._packed[positions] & self._mask).astype(np.int64)
        agree = np.count_nonzero(self.signatures[rows] == signature, axis=1) / NUM_PERM
        return self.ids[rows[agree >= min_jaccard]].tolist()


# ---------------------------------------------------------------------------------------
# Clusters: which item is the story's primary. Pure.


def primary_order(member: Mapping[str, Any], named: set[str]) -> tuple:
    """Sort key: a curated item stays primary; then an original named by another copy's
    rel=canonical; then the earliest published; then the first stored."""
    curated = member.get("status") in ("accepted", "rejected")
    return (
        not curated,
        member["canonical_url"] not in named,
        member.get("published") or "9999",
        member["id"],
    )


def plan_merges(
    links: Iterable[tuple[int, int]], members: Iterable[Mapping[str, Any]]
) -> list[tuple[int, int]]:
    """(duplicate, primary) pairs that make each linked group one story.

    `links` are pairs of item ids found to be copies; `members` every item of the
    clusters they touch (with id, published, canonical_url, page_canonical, status,
    duplicate_of). Only current primaries move: their copies follow them.
    """
    by_id = {m["id"]: m for m in members}
    parent: dict[int, int] = {}

    def find(x: int) -> int:
        parent.setdefault(x, x)
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    def root(item_id: int) -> int:
        return by_id[item_id].get("duplicate_of") or item_id

    for a, b in links:
        ra, rb = find(root(a)), find(root(b))
        if ra != rb:
            parent[ra] = rb
    groups: dict[int, list[int]] = {}
    for item in list(parent):
        groups.setdefault(find(item), []).append(item)
    merges: list[tuple[int, int]] = []
    for roots in groups.values():
        primary = _primary(roots, by_id)
        merges.extend((r, primary) for r in roots if r != primary)
    return merges


def _primary(roots: list[int], by_id: Mapping[int, Mapping[str, Any]]) -> int:
    cluster = set(roots)
    named = {
        canonical_url(m["page_canonical"])
        for m in by_id.values()
        if m.get("page_canonical") and (m.get("duplicate_of") or m["id"]) in cluster
    }
    return min((by_id[r] for r in roots), key=lambda m: primary_order(m, named))["id"]


# ---------------------------------------------------------------------------------------
# The stage.


@dataclass
class DedupReport:
    seen: int = 0
    duplicates: int = 0
    links: list[tuple[int, int]] = field(default_factory=list)


def dedup_new(store: Store, known: Mapping[int, tuple[str, Parts]] | None = None) -> DedupReport:
    """Sketch every item not yet seen by dedup, find its copies among all items, and
    store the clusters. Runs in one short transaction at the end.

    `known` (item id → a text and its blocks' shares of its sketch, as the extraction
    workers made them) spares the main process sketching those texts again: the pages
    read this run. One is used only while the item's stored text is still that text."""
    known = known or {}
    rows = store.clusters.undeduped()
    fresh = {row["id"]: _sketch_of(row["id"], row["text"] or "", known) for row in rows}
    if not fresh:
        return DedupReport()
    texts = {row["id"]: row["text"] or "" for row in rows}
    links = _exact_links(store, fresh) + _near_links(store, fresh, texts)
    involved = {i for link in links for i in link}
    merges = plan_merges(links, store.clusters.members(involved)) if links else []
    store.clusters.record(_signature_rows(fresh), merges)
    return DedupReport(len(fresh), len(merges), links)


def _sketch_of(item_id: int, text: str, known: Mapping[int, tuple[str, Parts]]) -> Sketch:
    sketched, parts = known.get(item_id, (None, None))
    return sketch_blocks(parts) if parts is not None and sketched == text else sketch(text)


def _signature_rows(fresh: Mapping[int, Sketch]) -> list[tuple[int, str | None, int, bytes | None]]:
    return [
        (item_id, s.digest, s.size, s.signature.tobytes() if s.signature is not None else None)
        for item_id, s in fresh.items()
    ]


def _exact_links(store: Store, fresh: Mapping[int, Sketch]) -> list[tuple[int, int]]:
    by_digest: dict[str, list[int]] = {}
    for item_id, s in fresh.items():
        if s.digest:
            by_digest.setdefault(s.digest, []).append(item_id)
    known = store.clusters.items_by_content_hash(list(by_digest))
    links = []
    for digest, ids in by_digest.items():
        group = known.get(digest, []) + ids
        links.extend((group[0], other) for other in group[1:])
    return links


def _near_links(
    store: Store, fresh: Mapping[int, Sketch], fresh_texts: Mapping[int, str]
) -> list[tuple[int, int]]:
    rows = [(i, s.signature.tobytes()) for i, s in fresh.items() if s.signature is not None]
    if not rows:
        return []
    stored = [(item_id, blob) for item_id, _, blob in store.clusters.signature_rows()]
    index = BandIndex.from_rows(stored + rows)
    pairs = set()
    for item_id, s in fresh.items():
        if s.signature is None:
            continue
        for other in index.similar(s.signature):
            if other != item_id:
                pairs.add((min(item_id, other), max(item_id, other)))
    texts = store.clusters.texts({i for pair in pairs for i in pair if i not in fresh})
    sets = {i: s.shingles for i, s in fresh.items()}
    sets.update((i, sketch(t).shingles) for i, t in texts.items())
    texts.update(fresh_texts)
    found = [(a, b) for a, b in sorted(pairs) if same_story(sets[a], sets[b])]
    # Boilerplate only vetoes: candidates and stored signatures stay on the full texts.
    source = store.clusters.sources_of({i for pair in found for i in pair})
    wanted: dict[str, set[str]] = {}
    for a, b in found:
        keys = set(paragraphs(texts[a])) | set(paragraphs(texts[b]))
        wanted.setdefault(source[a], set()).update(keys)
        wanted.setdefault(source[b], set()).update(keys)
    common = {name: source_boilerplate(store, name, keys) for name, keys in wanted.items()}
    return [
        (a, b)
        for a, b in found
        if same_story_apart_from(texts[a], texts[b], common[source[a]] | common[source[b]])
    ]


def source_boilerplate(store: Store, source: str, keys: set[str]) -> set[str]:
    """Which of the paragraphs `keys` are boilerplate of `source` (in BOILERPLATE_ITEMS of
    its items).

    Counted when a run has pairs about to merge, only for their sources and paragraphs,
    from the source's texts: nothing to keep up to date in the store. Normalizing every
    paragraph would cost a second per 25 MB of text, so only those whose first three
    words open a wanted paragraph are, each distinct one once (boilerplate repeats).
    """
    heads = {tuple(key.split()[:3]) for key in keys}
    normalized: dict[str, str] = {}
    counts: Counter[str] = Counter()
    for text in store.clusters.source_texts(source):
        seen = set()
        for part in _PARAGRAPH_BREAK.split(text):
            head = _HEAD.match(part)
            if head and part.isascii() and tuple(map(str.lower, head.groups())) not in heads:
                continue
            if (key := normalized.get(part)) is None:
                key = normalized[part] = " ".join(words(part))
            if key in keys:
                seen.add(key)
        counts.update(seen)
    return {key for key, n in counts.items() if n >= BOILERPLATE_ITEMS}

"""What dedup compares texts on, pure and numpy only: the normalized words, the text's
digest, the hashed word shingles and their MinHash signature.

Computed where the text already is: an HTML page's blocks carry their words, shingles
and MinHash from the extraction worker (`block_part`, in `extract.blocks`), so the main
process only joins the parts of the blocks a page keeps (`sketch_blocks`: the few
shingles that span two blocks, the least of the signatures). The signature is datasketch's MinHash
(scheme affine32), vectorized over the shingles; tests/test_dedup.py checks the two
agree bit for bit, since signatures are stored and compared across runs.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

SHINGLE_WORDS = 4  # word 4-grams: a shared phrase is evidence, a shared word is not
NUM_PERM = 128
MIN_SHINGLES = 30  # shorter texts (a teaser, a title) only ever match exactly
MIN_HASH_WORDS = 20  # an exact-text match needs at least this much text
SEED = 20261123
_WORDS = re.compile(r"\w+")
_MIX = np.array([0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0x27D4EB2F165667C5],
                dtype=np.uint64)  # fmt: skip


def _permutations(seed: int, num_perm: int) -> tuple[np.ndarray, np.ndarray]:
    """datasketch's affine32 permutations (MinHash._init_permutations): odd a, any b."""
    gen = np.random.RandomState(seed)
    a = gen.randint(0, 1 << 31, num_perm, dtype=np.uint32) * np.uint32(2) + np.uint32(1)
    b = gen.randint(0, 1 << 32, num_perm, dtype=np.uint32)
    return a, b


_PERM_A, _PERM_B = _permutations(SEED, NUM_PERM)


def words(text: str) -> list[str]:
    """Case-folded word tokens of compatibility-normalized text."""
    if text.isascii():  # most texts: nothing to normalize, and lower() is casefold()
        return _WORDS.findall(text.lower())
    return _WORDS.findall(unicodedata.normalize("NFKC", text).casefold())


def word_hashes(tokens: list[str]) -> np.ndarray:
    """Each token's CRC-32, as uint32."""
    encoded = " ".join(tokens).encode().split()
    return np.fromiter(map(zlib.crc32, encoded), np.uint32, len(encoded))


def content_hash(tokens: list[str]) -> str | None:
    """The normalized text's digest: case, punctuation and spacing do not count."""
    return _digest(" ".join(tokens), len(tokens))


def _digest(joined: str, count: int) -> str | None:
    return hashlib.sha1(joined.encode()).hexdigest() if count >= MIN_HASH_WORDS else None


def shingles(tokens: list[str]) -> np.ndarray:
    """Distinct 32-bit hashes of the word SHINGLE_WORDS-grams, sorted."""
    return shingles_of_hashes(word_hashes(tokens))


def shingles_of_hashes(hashed: np.ndarray) -> np.ndarray:
    """`shingles` from the words' hashes (uint32, in text order)."""
    span = len(hashed) - SHINGLE_WORDS + 1
    if span < 1:
        return np.empty(0, dtype=np.uint32)
    wide = hashed.astype(np.uint64)
    return np.unique(_mixed([wide[k : k + span] for k in range(SHINGLE_WORDS)]))


def _mixed(columns: list[np.ndarray]) -> np.ndarray:
    """Each shingle's hash from its words' (column k: the k-th word of every shingle):
    a position-weighted sum, so "a b" and "b a" differ."""
    mixed = np.zeros(len(columns[0]), dtype=np.uint64)
    for k, column in enumerate(columns):
        mixed += column * _MIX[k]
    return (mixed >> np.uint64(32)).astype(np.uint32)


def minhash(shingle_set: np.ndarray) -> np.ndarray:
    """The MinHash signature (NUM_PERM uint32 values) of a shingle set: datasketch's
    `MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=int).update_batch`, in one numpy
    expression instead of a Python call per shingle."""
    signature = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    if not len(shingle_set):
        return signature
    return np.minimum(signature, _permuted(shingle_set).min(axis=0))


def _permuted(shingle_set: np.ndarray) -> np.ndarray:
    """(shingles, NUM_PERM): each shingle under each permutation. uint32 arithmetic
    wraps: a·h + b mod 2^32, as datasketch's affine32 scheme."""
    return _fmix32(shingle_set.astype(np.uint32)).reshape(-1, 1) * _PERM_A + _PERM_B


def _fmix32(hv: np.ndarray) -> np.ndarray:
    """MurmurHash3's 32-bit finalizer, which datasketch applies before permuting."""
    hv = hv ^ (hv >> np.uint32(16))
    hv = hv * np.uint32(0x85EBCA6B)
    hv = hv ^ (hv >> np.uint32(13))
    hv = hv * np.uint32(0xC2B2AE35)
    return hv ^ (hv >> np.uint32(16))


@dataclass(frozen=True)
class Sketch:
    """What dedup keeps of one text."""

    digest: str | None
    shingles: np.ndarray
    signature: np.ndarray | None  # None for texts under MIN_SHINGLES

    @property
    def size(self) -> int:
        return len(self.shingles)


def sketch(text: str) -> Sketch:
    tokens = words(text or "")
    return _sketch(" ".join(tokens), word_hashes(tokens))


class BlockPart(NamedTuple):
    """One block's share of its page's sketch, made in the extraction worker."""

    tokens: str  # its normalized words, one space apart
    hashes: bytes  # their hashes (uint32)
    shingles: bytes  # the distinct hashes of the shingles inside the block (uint32, sorted)
    signature: bytes  # their MinHash (NUM_PERM uint32); b"" when there are none


def block_part(text: str) -> BlockPart:
    return block_parts([text])[0]


def block_parts(texts: Sequence[str]) -> list[BlockPart]:
    """Each text's `BlockPart`, for one page's blocks at once: a page's blocks are short,
    and numpy calls per block would cost more than the arithmetic."""
    token_lists = [words(text) for text in texts]
    counts = np.array([len(tokens) for tokens in token_lists], dtype=np.int64)
    ends = np.cumsum(counts)
    hashed = word_hashes([token for tokens in token_lists for token in tokens])
    span = max(0, len(hashed) - SHINGLE_WORDS + 1)
    wide = hashed.astype(np.uint64)
    mixed = _mixed([wide[k : k + span] for k in range(SHINGLE_WORDS)])
    # A shingle is a block's own when its last word is in the block it starts in.
    block = np.repeat(np.arange(len(texts), dtype=np.int64), counts)[:span]
    own = np.arange(span) + SHINGLE_WORDS <= ends[block]
    # Distinct (block, shingle) pairs, sorted by block, then by shingle.
    keyed = np.unique((block[own].astype(np.uint64) << np.uint64(32)) | mixed[own])
    of_block = (keyed >> np.uint64(32)).astype(np.int64)
    found = (keyed & np.uint64(0xFFFFFFFF)).astype(np.uint32)
    bounds = np.searchsorted(of_block, np.arange(len(texts) + 1))
    signatures = np.empty((0, NUM_PERM), dtype=np.uint32)
    if len(found):
        starts = bounds[:-1][np.diff(bounds) > 0]  # the blocks that have shingles
        signatures = np.minimum.reduceat(_permuted(found), starts, axis=0)
    parts, row = [], 0
    for n, tokens in enumerate(token_lists):
        first, last = bounds[n], bounds[n + 1]
        signature = b""
        if last > first:
            signature, row = signatures[row].tobytes(), row + 1
        start = ends[n] - counts[n]
        parts.append(
            BlockPart(
                " ".join(tokens),
                hashed[start : ends[n]].tobytes(),
                found[first:last].tobytes(),
                signature,
            )
        )
    return parts


def sketch_blocks(parts: Iterable[BlockPart]) -> Sketch:
    """The sketch of texts joined by blank lines (a blank line is no word and joins
    none), from each text's `block_part`: equal to `sketch` of the joined text. Only the
    shingles that span two blocks are new; a union's MinHash is its parts' least values."""
    parts = [part for part in parts if part.tokens]
    hashed = np.frombuffer(b"".join(p.hashes for p in parts), dtype=np.uint32)
    # Starts of the shingles that cross a block's end: the last words of each block.
    ends = np.cumsum([len(p.hashes) // 4 for p in parts], dtype=np.int64)[:-1]
    starts = (ends.reshape(-1, 1) - np.arange(1, SHINGLE_WORDS)).ravel()
    starts = np.unique(starts[(starts >= 0) & (starts <= len(hashed) - SHINGLE_WORDS)])
    wide = hashed.astype(np.uint64)
    spanning = _mixed([wide[starts + k] for k in range(SHINGLE_WORDS)])
    inside = [np.frombuffer(p.shingles, dtype=np.uint32) for p in parts]
    found = np.unique(np.concatenate([spanning, *inside]))
    signature = None
    if len(found) >= MIN_SHINGLES:
        signatures = [np.frombuffer(p.signature, np.uint32) for p in parts if p.signature]
        signature = np.minimum.reduce([minhash(spanning), *signatures])
    digest = _digest(" ".join(p.tokens for p in parts), len(hashed))
    return Sketch(digest, found, signature)


def _sketch(joined: str, hashed: np.ndarray) -> Sketch:
    """From the words one space apart and their hashes (one per word)."""
    found = shingles_of_hashes(hashed)
    signature = minhash(found) if len(found) >= MIN_SHINGLES else None
    return Sketch(_digest(joined, len(hashed)), found, signature)

"""What dedup compares texts on, pure and numpy only: the normalized words, the text's
digest, the hashed word shingles and their MinHash signature.

Computed where the text already is: an HTML page's blocks carry their words and word
hashes from the extraction worker (`extract.blocks`), so the main process only joins
the blocks a page keeps (`sketch_blocks`). The signature is datasketch's MinHash
(scheme affine32), vectorized over the shingles; tests/test_dedup.py checks the two
agree bit for bit, since signatures are stored and compared across runs.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
import zlib
from collections.abc import Iterable
from dataclasses import dataclass

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
    mixed = np.zeros(span, dtype=np.uint64)
    for k in range(SHINGLE_WORDS):  # position-weighted sum: "a b" and "b a" differ
        mixed += wide[k : k + span] * _MIX[k]
    return np.unique((mixed >> np.uint64(32)).astype(np.uint32))


def minhash(shingle_set: np.ndarray) -> np.ndarray:
    """The MinHash signature (NUM_PERM uint32 values) of a shingle set: datasketch's
    `MinHash(num_perm=NUM_PERM, seed=SEED, hashfunc=int).update_batch`, in one numpy
    expression instead of a Python call per shingle."""
    signature = np.full(NUM_PERM, 0xFFFFFFFF, dtype=np.uint32)
    if not len(shingle_set):
        return signature
    hv = _fmix32(shingle_set.astype(np.uint32)).reshape(-1, 1)
    # uint32 arithmetic wraps: a·h + b mod 2^32, as datasketch's affine32 scheme.
    return np.minimum(signature, (hv * _PERM_A + _PERM_B).min(axis=0))


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


def sketch_blocks(parts: Iterable[tuple[str, bytes]]) -> Sketch:
    """The sketch of texts joined by blank lines, from each text's `block_words`: equal
    to `sketch` of the joined text (a blank line is no word and joins no two)."""
    parts = [(tokens, hashes) for tokens, hashes in parts if tokens]
    hashed = np.frombuffer(b"".join(h for _, h in parts), dtype=np.uint32)
    return _sketch(" ".join(t for t, _ in parts), hashed)


def block_words(text: str) -> tuple[str, bytes]:
    """One block's part of a sketch, made in the extraction worker: its normalized words
    (one space apart) and their hashes (uint32 bytes)."""
    tokens = words(text)
    return " ".join(tokens), word_hashes(tokens).tobytes()


def _sketch(joined: str, hashed: np.ndarray) -> Sketch:
    """From the words one space apart and their hashes (one per word)."""
    found = shingles_of_hashes(hashed)
    signature = minhash(found) if len(found) >= MIN_SHINGLES else None
    return Sketch(_digest(joined, len(hashed)), found, signature)

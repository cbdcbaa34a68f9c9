"""Response bodies decoded by hand, bounded: the byte cap counts decoded bytes, and one
compressed chunk never expands past PIECE_BYTES in memory before the cap is checked."""

from __future__ import annotations

import zlib
from collections.abc import Iterator

from ..errors import FetchError

# Decoded output is produced in pieces of at most this size, so one compressed chunk can
# never expand to more than this in memory before the cap is checked.
PIECE_BYTES = 64 * 1024

_WBITS = {
    "gzip": 16 + zlib.MAX_WBITS,
    "x-gzip": 16 + zlib.MAX_WBITS,
    "deflate": zlib.MAX_WBITS,  # zlib-wrapped, as HTTP says; raw deflate is tried too
}


class BodyDecoder:
    """Undo one Content-Encoding, yielding output in pieces of at most PIECE_BYTES."""

    def __init__(self, encoding: str) -> None:
        self.encoding = encoding
        self._zlib = zlib.decompressobj(_WBITS[encoding]) if encoding in _WBITS else None
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        if self._zlib is None:
            yield data
            return
        while data and not self._zlib.eof:
            try:
                piece = self._zlib.decompress(data, PIECE_BYTES)
            except zlib.error:
                if self.encoding != "deflate" or self._started:
                    raise
                # Some servers send raw deflate without the zlib header.
                self._zlib = zlib.decompressobj(-zlib.MAX_WBITS)
                self._started = True
                continue
            self._started = True
            yield piece
            data = self._zlib.unconsumed_tail

    def flush(self) -> bytes:
        # Every input byte was already fed in, so what remains is small.
        return self._zlib.flush() if self._zlib is not None else b""


def decoder_for(url: str, header: str | None) -> BodyDecoder:
    encoding = (header or "identity").strip().lower()
    if encoding in ("", "identity"):
        return BodyDecoder("identity")
    if encoding not in _WBITS:
        raise FetchError(url, f"unsupported content encoding {encoding!r}")
    return BodyDecoder(encoding)


def size_text(limit: int) -> str:
    return f"{limit / 1_000_000:g} MB" if limit >= 1_000_000 else f"{limit} bytes"

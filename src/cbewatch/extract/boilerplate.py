"""Site-level boilerplate: a block that recurs on many pages of one source (a sign-up box,
an author box, a "Related" or share label, a standard disclaimer) is the site's chrome,
not the article; so is a block of links beside a label the site repeats ("Related:").
Pure decisions over the counts `store.boilerplate` keeps; the main process applies them
to each batch of pages read, counting the batch's own pages too, and once more to the
run's earlier batches when it ends.

A block is chrome when it was seen on at least MIN_PAGES distinct pages of the source
and on at least MIN_SHARE of the pages read from it: a block seen on one page only is
never chrome. Links alone right after a chrome block (the list under "Related") go
with it. A page never loses so much that less than KEEP_AT_LEAST of its words remain:
a site that published one story three times has not made it chrome.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Set
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

from ..model.deciders import snippet
from ..sanitize import without_tags
from .blocks import Block, joined, text_key

if TYPE_CHECKING:
    from . import Article, PageResult

MIN_PAGES = 3
MIN_SHARE = 0.1
KEEP_AT_LEAST = 0.25
FORGET_AFTER = 500  # pages of a source after which a block seen too rarely is forgotten

Counts = Mapping[str, tuple[int, Mapping[int, int]]]  # source → (pages, key → pages seen on)


def is_chrome(seen_on: int, pages: int) -> bool:
    return seen_on >= MIN_PAGES and seen_on >= MIN_SHARE * pages


def page_keys(article: Article | None) -> frozenset[int]:
    """The keys a page read adds to its source's counts: its blocks' and its description's
    (a description the whole site shares is no snippet)."""
    if article is None:
        return frozenset()
    keys = {k for b in article.blocks for k in (b.key, b.label_key) if k is not None}
    described = text_key(article.description or "")
    if described is not None:
        keys.add(described)
    return frozenset(keys)


@dataclass(frozen=True)
class SitePage:
    """A page result in a batch, with what settling it needs."""

    source: str
    result: PageResult
    feed_text: str = ""  # the feed's summary, which comes first as the snippet

    @cached_property
    def keys(self) -> frozenset[int]:
        return (
            page_keys(self.result.article) if self.result.extracted_from == "page" else frozenset()
        )


def wanted(pages: Iterable[SitePage]) -> dict[str, set[int]]:
    """source → the keys whose stored counts settling `pages` needs."""
    found: dict[str, set[int]] = {}
    for page in pages:
        if page.keys:
            found.setdefault(page.source, set()).update(page.keys)
    return found


def settle(
    pages: list[SitePage], stored: Counts
) -> tuple[list[PageResult], list[frozenset[int]], list[tuple[str, frozenset[int]]]]:
    """Each page's result with its site's chrome stripped and its snippet chosen, counting
    the batch's own pages with the stored counts; the chrome found on each page; and the
    (source, keys) to add to the counts."""
    chromes, seen = _chrome_of(pages, stored, counted=False)
    return [_settled(p, chrome) for p, chrome in zip(pages, chromes, strict=True)], chromes, seen


def resettled(flushed: list[tuple[SitePage, frozenset[int]]], stored: Counts) -> list[PageResult]:
    """Pages stored earlier in a run, with the chrome found on them then, settled again
    with the counts the run ended with (which count them already): those it changes."""
    chromes, _ = _chrome_of([page for page, _ in flushed], stored, counted=True)
    return [
        _settled(page, chrome)
        for (page, before), chrome in zip(flushed, chromes, strict=True)
        if chrome != before
    ]


def _chrome_of(
    pages: list[SitePage], stored: Counts, counted: bool
) -> tuple[list[frozenset[int]], list[tuple[str, frozenset[int]]]]:
    """The chrome keys of each page, from the stored counts and (unless they are
    `counted` there already) the batch's own pages; and what the batch adds."""
    batch_pages: Counter[str] = Counter()
    batch_blocks: dict[str, Counter[int]] = {}
    seen = []
    for page in pages:
        if page.keys and not counted:
            batch_pages[page.source] += 1
            batch_blocks.setdefault(page.source, Counter()).update(page.keys)
            seen.append((page.source, page.keys))
    chromes = []
    for page in pages:
        pages_read, stored_blocks = stored.get(page.source, (0, {}))
        total = pages_read + batch_pages[page.source]
        in_batch = batch_blocks.get(page.source, Counter())
        chromes.append(
            frozenset(
                k for k in page.keys if is_chrome(stored_blocks.get(k, 0) + in_batch[k], total)
            )
        )
    return chromes, seen


def _settled(page: SitePage, chrome: frozenset[int]) -> PageResult:
    result, article = page.result, page.result.article
    if result.extracted_from != "page" or article is None:
        return result
    stripped = strip_chrome(article, chrome)
    description = article.description
    if description and text_key(description) in chrome:
        description = None
    # Page text may hold markup that was escaped twice: none of it goes into a snippet.
    summary = without_tags(snippet(page.feed_text, description, stripped.text))
    return replace(
        result, text=stripped.text, html=stripped.html, article=stripped, summary_text=summary
    )


def strip_chrome(article: Article, chrome: Set[int]) -> Article:
    """The article without its site's chrome blocks (and the links right after one)."""
    if not chrome:
        return article
    kept: list[Block] = []
    after_chrome = False
    for block in article.blocks:
        if block.key in chrome or block.label_key in chrome or (after_chrome and block.links_only):
            after_chrome = True
            continue
        after_chrome = False
        kept.append(block)
    if _words(kept) < KEEP_AT_LEAST * _words(article.blocks):
        return article
    text, html = joined(kept)
    return replace(article, text=text, html=html, blocks=tuple(kept))


def _words(blocks: Iterable[Block]) -> int:
    return sum(b.words for b in blocks)

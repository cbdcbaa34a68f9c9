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
from collections.abc import Iterable, Mapping
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
    pages: list[SitePage], stored: Counts, counted: bool = False
) -> tuple[list[PageResult], list[tuple[str, frozenset[int]]]]:
    """Each page's result with its site's chrome stripped and its snippet chosen, counting
    the batch's own pages with the stored counts (unless they are `counted` there
    already); and the (source, keys) to add to them."""
    batch_pages: Counter[str] = Counter()
    batch_blocks: dict[str, Counter[int]] = {}
    seen = []
    for page in pages:
        if page.keys and not counted:
            batch_pages[page.source] += 1
            batch_blocks.setdefault(page.source, Counter()).update(page.keys)
            seen.append((page.source, page.keys))
    settled = []
    for page in pages:
        result = page.result
        if result.extracted_from != "page" or result.article is None:
            settled.append(result)
            continue
        pages_read, stored_blocks = stored.get(page.source, (0, {}))
        total = pages_read + batch_pages[page.source]
        in_batch = batch_blocks.get(page.source, Counter())
        chrome = {k for k in page.keys if is_chrome(stored_blocks.get(k, 0) + in_batch[k], total)}
        settled.append(_settled(result, result.article, chrome, page.feed_text))
    return settled, seen


def resettled(flushed: list[tuple[SitePage, str]], stored: Counts) -> list[PageResult]:
    """Pages stored earlier in a run, as (page, the text stored), settled again with the
    counts the run ended with (which count them already): those whose text changes."""
    results, _ = settle([page for page, _ in flushed], stored, counted=True)
    return [new for new, (_, text) in zip(results, flushed, strict=True) if new.text != text]


def _settled(result: PageResult, article: Article, chrome: set[int], feed_text: str) -> PageResult:
    stripped = strip_chrome(article, chrome)
    description = article.description
    if description and text_key(description) in chrome:
        description = None
    # Page text may hold markup that was escaped twice: none of it goes into a snippet.
    summary = without_tags(snippet(feed_text, description, stripped.text))
    return replace(
        result, text=stripped.text, html=stripped.html, article=stripped, summary_text=summary
    )


def strip_chrome(article: Article, chrome: set[int]) -> Article:
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
    return sum(len(b.text.split()) for b in blocks)

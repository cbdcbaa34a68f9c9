"""A roundup's blog post page as blocks for the importer: the page's chrome (nav, sidebar,
banners, footer, share and comment areas, hidden text) dropped, its main content found,
its headings, list items and paragraphs read in order. Pure: never fetches or writes.
"""

from __future__ import annotations

import re
from collections import Counter

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import PreformattedString

from ..sanitize import clean_title
from ..urls import absolute_http_url
from .importer import Block, Piece

HEADINGS = ("h2", "h3", "h4")
# Dropped with everything in them: code, forms, and the parts of a page around a post.
CHROME_TAGS = (
    "script", "style", "noscript", "template", "iframe", "object", "embed", "svg", "math",
    "form", "button", "select", "textarea", "dialog", "nav", "aside", "footer", "header",
)  # fmt: skip
CHROME_ROLES = {
    "navigation", "banner", "contentinfo", "complementary", "search", "dialog", "alertdialog",
}  # fmt: skip
# A class or id made of one of these words (alone or joined by - or _) marks chrome.
CHROME_WORDS = {
    "nav", "navbar", "navigation", "menu", "sidebar", "share", "sharing", "sharedaddy",
    "social", "cookie", "cookies", "consent", "gdpr", "banner", "breadcrumb", "breadcrumbs",
    "comment", "comments", "related", "widget", "widgets", "footer", "byline", "advert",
    "ads", "promo", "popup", "modal", "skip", "screen-reader-text", "sr-only", "visually-hidden",
}  # fmt: skip
# "has-sidebar", "with-menu", "no-comments": words about a layout, not chrome themselves.
_LAYOUT_PREFIXES = ("has", "with", "no", "show", "hide", "is")
_PROTECTED = ("html", "body", "main", "article")
_SHARE_LINK = re.compile(
    r"^https?://(?:www\.|m\.|api\.)?(?:"
    r"(?:twitter|x)\.com/(?:intent|share)|facebook\.com/(?:sharer|share\.php|dialog/share)"
    r"|linkedin\.com/(?:share|sharing|shareArticle|cws/share)|reddit\.com/submit"
    r"|pinterest\.com/pin/create|whatsapp\.com/send|wa\.me/|t\.me/share"
    r"|bsky\.app/intent|mastodonshare\.com|threads\.net/intent"
    r")",
    re.IGNORECASE,
)
_HIDDEN_STYLE = re.compile(r"display\s*:\s*none|visibility\s*:\s*hidden", re.IGNORECASE)


def html_blocks(html: str) -> tuple[str, list[Block]]:
    """The page's title ("" when it has none) and the blocks of its main content."""
    soup = BeautifulSoup(html, "lxml")
    base = _base_url(soup)
    title = _page_title(soup)  # before the chrome goes: the title often sits in a <header>
    _drop_chrome(soup)
    container = _main_content(soup)
    blocks = []
    for element in container.find_all(("li", "p", *HEADINGS)):
        if element.find_parent("li") is not None:
            continue  # part of the list item that holds it
        if element.name in HEADINGS:
            name = clean_title(element.get_text(" "))
            if name:
                blocks.append(Block("heading", name=name))
            continue
        pieces = _pieces(element, base)
        if any(p.url or p.text.strip() for p in pieces):
            blocks.append(Block("bullet" if element.name == "li" else "para", pieces))
    return title, blocks


def _base_url(soup: BeautifulSoup) -> str:
    for tag, attrs, key in (
        ("base", {"href": True}, "href"),
        ("link", {"rel": "canonical", "href": True}, "href"),
        ("meta", {"property": "og:url", "content": True}, "content"),
    ):
        found = soup.find(tag, attrs=attrs)
        if isinstance(found, Tag):
            url = absolute_http_url(str(found.get(key, "")))
            if url:
                return url
    return ""


def _page_title(soup: BeautifulSoup) -> str:
    headings = [h for h in soup.find_all("h1") if h.find_parent(("nav", "footer", "aside")) is None]
    # A post's own h1 sits in its article; a theme's site-name h1 sits in the page header.
    in_post = [h for h in headings if h.find_parent(("article", "main")) is not None]
    for heading in in_post + headings:
        title = clean_title(heading.get_text(" "))
        if title:
            return title
    og = soup.find("meta", attrs={"property": "og:title", "content": True})
    if isinstance(og, Tag) and clean_title(str(og["content"])):
        return clean_title(str(og["content"]))
    if soup.title is not None:
        # "Post title | Site name" is how most blogs write <title>.
        return clean_title(soup.title.get_text().split(" | ")[0])
    return ""


def _drop_chrome(soup: BeautifulSoup) -> None:
    for element in soup.find_all(True):
        if element.decomposed:
            continue  # inside something dropped already
        if element.name in CHROME_TAGS or _is_hidden(element) or _is_chrome_box(element):
            element.decompose()
    for link in soup.find_all("a", href=True):
        if _SHARE_LINK.match(str(link["href"]).strip()):
            link.decompose()


def _is_hidden(element: Tag) -> bool:
    return (
        element.has_attr("hidden")
        or str(element.get("aria-hidden", "")).lower() == "true"
        or bool(_HIDDEN_STYLE.search(str(element.get("style", ""))))
    )


def _is_chrome_box(element: Tag) -> bool:
    if element.name in _PROTECTED:
        return False
    if str(element.get("role", "")).lower() in CHROME_ROLES:
        return True
    names = [*_classes(element), str(element.get("id", ""))]
    if not any(_is_chrome_name(name.lower()) for name in names if name):
        return False
    # A wrapper around the whole post ("content-with-sidebar") is never chrome.
    return element.find(_PROTECTED) is None


def _classes(element: Tag) -> list[str]:
    value = element.get("class") or []
    return [str(v) for v in value] if isinstance(value, list) else str(value).split()


def _is_chrome_name(name: str) -> bool:
    parts = [p for p in re.split(r"[-_\s]+", name) if p]
    if not parts or parts[0] in _LAYOUT_PREFIXES:
        return False
    return name in CHROME_WORDS or any(p in CHROME_WORDS for p in parts)


def _item_blocks(root: Tag) -> list[Tag]:
    """The list items (outermost) and paragraphs that hold a link: what a roundup is made of."""
    found = []
    for element in root.find_all(("li", "p")):
        if element.find_parent("li") is None and element.find("a", href=True) is not None:
            found.append(element)
    return found


def _main_content(soup: BeautifulSoup) -> Tag:
    root = soup.body or soup
    items = _item_blocks(root)
    counts: Counter[int] = Counter()
    for item in items:
        for parent in item.parents:
            counts[id(parent)] += 1
    semantic = [
        el
        for el in root.find_all(True)
        if counts[id(el)]
        and (el.name in ("article", "main") or str(el.get("role", "")).lower() == "main")
    ]
    if semantic:
        # The post's <article> inside <main>, unless it holds under half of what <main>
        # does (then the "articles" are cards of a list, and <main> is the roundup).
        most = max(counts[id(el)] for el in semantic)
        return max(
            (el for el in semantic if counts[id(el)] * 2 >= most),
            key=lambda el: len(list(el.parents)),
        )
    top = max(counts.values(), default=0)
    holders = [el for el in root.find_all(True) if top and counts[id(el)] == top]
    if not holders:
        return root
    # The innermost holder of every item may be the list itself: its section headings
    # sit beside it, so go up to the first element that has headings too.
    content = max(holders, key=lambda el: len(list(el.parents)))
    for candidate in (content, *content.parents):
        if isinstance(candidate, Tag) and candidate.find(HEADINGS) is not None:
            return candidate
    return content


def _pieces(element: Tag, base: str) -> list[Piece]:
    """The element's text and links, in order; a nested list's items joined by "; "."""
    pieces: list[Piece] = []
    for child in element.children:
        if isinstance(child, PreformattedString):
            continue  # comments, CDATA, doctype: never text
        if isinstance(child, NavigableString):
            pieces.append(Piece(str(child)))
        elif isinstance(child, Tag):
            pieces += _tag_pieces(child, base)
    return pieces


def _tag_pieces(tag: Tag, base: str) -> list[Piece]:
    if tag.name == "a":
        url = absolute_http_url(str(tag.get("href", "")), base)
        if url:
            return [Piece(tag.get_text(" "), url)]
        # A javascript: or mailto: link, or a relative one without a base: its text only.
        return [Piece(tag.get_text(" "))]
    if tag.name == "br":
        return [Piece(" ")]
    if tag.name in ("ul", "ol"):
        pieces = [Piece(" ")]
        for n, item in enumerate(tag.find_all("li", recursive=False)):
            pieces += ([Piece("; ")] if n else []) + _pieces(item, base)
        return pieces
    inner = _pieces(tag, base)
    # Block-level children (a <p> inside an <li>) are separate runs of text.
    return [Piece(" "), *inner, Piece(" ")] if tag.name in ("p", "div", "blockquote") else inner

"""Golden pairs for the source parsers: every `*.expected.json` beside its fixture body,
plus the hostile bodies (entity bombs, gzip bombs, non-feeds) that must fail cheaply."""

from __future__ import annotations

import gzip
import json
import resource
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from cbewatch.errors import ParseError
from cbewatch.markup import decode_markup, defuse_xml, title_from_url
from cbewatch.model.types import Entry
from cbewatch.sources import feeds
from cbewatch.sources.fastfeed import read_simple_feed
from cbewatch.sources.feeds import parse_feed
from cbewatch.sources.model import ParsedPage
from cbewatch.sources.pages import parse_list_page
from cbewatch.sources.sitemaps import parse_sitemap

FIXTURES = Path(__file__).parent / "fixtures"
EXECUTABLE = ("<script", "onerror", "onload", "javascript:", "<iframe", "expression(", "<svg")
NOW = datetime(2026, 5, 20, 12, tzinfo=UTC)


def golden_pairs(kind: str) -> list[Any]:
    """(expected, body) paths for one fixture folder, named by the fixture."""
    pairs = []
    for expected in sorted((FIXTURES / kind).glob("*.expected.json")):
        stem = expected.name.removesuffix(".expected.json")
        bodies = [p for p in expected.parent.glob(f"{stem}.*") if p != expected]
        assert len(bodies) == 1, f"{expected.name} needs exactly one body file: {bodies}"
        pairs.append(pytest.param(expected, bodies[0], id=bodies[0].name))
    return pairs


def entry_record(entry: Entry, keys: list[str]) -> dict[str, Any]:
    """The fields of `entry` named in `keys`, as the JSON pair spells them."""
    record = {
        "url": entry.url,
        "title": entry.title,
        "summary": entry.summary,
        "summary_text": entry.summary_text,
        "published": entry.published.isoformat() if entry.published else None,
        "author": entry.author,
    }
    return {key: record[key] for key in keys}


def assert_matches(page: ParsedPage, expected: dict[str, Any]) -> None:
    assert len(page.entries) == len(expected["entries"]), [e.url for e in page.entries]
    pairs = zip(page.entries, expected["entries"], strict=True)
    assert [entry_record(entry, list(wanted)) for entry, wanted in pairs] == expected["entries"]
    assert (page.problem is not None) == expected["problem"], page.problem
    for key in ("next_url", "children"):
        if key in expected:
            assert getattr(page, key) == expected[key]


def assert_safe(markup: str) -> None:
    lowered = markup.lower()
    for needle in EXECUTABLE:
        assert needle not in lowered, f"{needle!r} survived in {markup!r}"


@pytest.mark.parametrize(("expected", "body"), golden_pairs("feeds"))
def test_feed_golden_pair(expected: Path, body: Path) -> None:
    wanted = json.loads(expected.read_text(encoding="utf-8"))
    page = parse_feed(body.read_bytes(), **wanted["input"])
    assert_matches(page, wanted)
    for entry in page.entries:
        assert_safe(entry.summary)
        assert_safe(entry.title)
        assert entry.published is None or entry.published.utcoffset() == timedelta(0)


@pytest.mark.parametrize(("expected", "body"), golden_pairs("pages"))
def test_list_page_golden_pair(expected: Path, body: Path) -> None:
    wanted = json.loads(expected.read_text(encoding="utf-8"))
    assert_matches(parse_list_page(body.read_bytes(), **wanted["input"]), wanted)


@pytest.mark.parametrize(("expected", "body"), golden_pairs("sitemaps"))
def test_sitemap_golden_pair(expected: Path, body: Path) -> None:
    wanted = json.loads(expected.read_text(encoding="utf-8"))
    given = wanted["input"]
    page = parse_sitemap(
        body.read_bytes(),
        given["url"],
        datetime.fromisoformat(given["now"]),
        timedelta(days=given["max_age_days"]),
    )
    assert_matches(page, wanted)


@pytest.mark.parametrize(
    "body",
    [
        b"",
        b"\x00\x01 binary garbage \xff\xfe",
        b"<!DOCTYPE html><html><head><title>Blog</title></head><body><p>Hi</p></body></html>",
        b'{"error": "not found"}',
        b'{"version": "https://jsonfeed.org/version/1.1", "items": "nope"}',
        b"[" * 100_000,
        b"{" * 100_000,
        b'<?xml version="1.0"?><urlset><url><loc>https://a.example/</loc></url></urlset>',
    ],
    ids=["empty", "garbage", "html", "json", "json-items", "deep-list", "deep-object", "sitemap"],
)
def test_a_body_that_is_not_a_feed_raises(body: bytes) -> None:
    with pytest.raises(ParseError, match=r"not an RSS, Atom or JSON feed|items list"):
        parse_feed(body, "https://example.org/feed")


def billion_laughs(root: str, inner: str) -> bytes:
    levels = ['<!ENTITY lol0 "lol">'] + [
        f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)
    ]
    subset = "\n".join(levels)
    return f'<?xml version="1.0"?>\n<!DOCTYPE {root} [\n{subset}\n]>\n{inner}'.encode()


def quadratic_blowup(root: str, inner_with_ref: str) -> bytes:
    entity = "x" * 100_000
    body = inner_with_ref.replace("REF", "&big;" * 20_000)
    return f'<?xml version="1.0"?>\n<!DOCTYPE {root} [<!ENTITY big "{entity}">]>\n{body}'.encode()


FEED_WITH_REF = (
    '<rss version="2.0"><channel><title>x</title><item><title>REF</title>'
    "<link>https://example.org/a</link></item></channel></rss>"
)
SITEMAP_WITH_REF = (
    "<urlset><url><loc>https://example.org/REF</loc><lastmod>2026-05-19</lastmod></url>"
    "<url><loc>https://example.org/b</loc><lastmod>2026-05-19</lastmod></url></urlset>"
)


def run_cheaply(parse: Any, body: bytes) -> ParsedPage | None:
    """Parse `body`; fail if it takes over 2 s or grows the process by over 100 MB."""
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    started = time.monotonic()
    try:
        page = parse(body)
    except ParseError:
        page = None
    assert time.monotonic() - started < 2
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100 * 1024
    return page


@pytest.mark.parametrize(
    "body",
    [
        billion_laughs("rss", FEED_WITH_REF.replace("REF", "&lol9;")),
        quadratic_blowup("rss", FEED_WITH_REF),
    ],
    ids=["billion-laughs", "quadratic"],
)
def test_entity_bombs_in_feeds_stay_small(body: bytes) -> None:
    page = run_cheaply(lambda b: parse_feed(b, "https://example.org/feed"), body)
    assert page is None or all(len(e.title) <= 300 for e in page.entries)


@pytest.mark.parametrize(
    "body",
    [
        billion_laughs("urlset", SITEMAP_WITH_REF.replace("REF", "&lol9;")),
        quadratic_blowup("urlset", SITEMAP_WITH_REF),
    ],
    ids=["billion-laughs", "quadratic"],
)
def test_entity_bombs_in_sitemaps_stay_small(body: bytes) -> None:
    page = run_cheaply(
        lambda b: parse_sitemap(b, "https://example.org/sitemap.xml", NOW, timedelta(days=30)),
        body,
    )
    assert page is None or all(len(e.url) < 1000 for e in page.entries)


def test_a_gzip_bomb_sitemap_is_refused() -> None:
    bomb = gzip.compress(b"<urlset>" + b" " * (25 * 1024 * 1024) + b"</urlset>")
    with pytest.raises(ParseError, match="more than 20 MB"):
        parse_sitemap(bomb, "https://example.org/s.xml.gz", NOW, timedelta(days=30))


@pytest.mark.parametrize(
    "body",
    [b"", b"\x1f\x8b\x08broken", b"<html><body>Not here</body></html>", b"hello", b"<rss/>"],
    ids=["empty", "bad-gzip", "html", "text", "rss"],
)
def test_a_body_that_is_not_a_sitemap_raises(body: bytes) -> None:
    with pytest.raises(ParseError):
        parse_sitemap(body, "https://example.org/sitemap.xml", NOW, timedelta(days=30))


@pytest.mark.parametrize(
    ("links", "expected"),
    [
        ('<link rel="next" href="/list?p=2">', "https://example.org/list?p=2"),
        ('<a rel="nofollow next" href="p/2">2</a>', "https://example.org/news/p/2"),
        ('<a href="?page=2"> Next </a>', "https://example.org/news/?page=2"),
        ('<a href="/older">Older posts</a>', "https://example.org/older"),
        ('<a href="/p2">NEXT PAGE</a>', "https://example.org/p2"),
        ('<a href="/p2">›</a>', "https://example.org/p2"),
        ('<a href="/p2"> » </a>', "https://example.org/p2"),
        ('<a href="/p2">Next steps for schools</a>', None),
        ('<a href="javascript:more()">Next</a>', None),
        ('<a href="/news/">Next</a>', None),
    ],
)
def test_next_link_on_a_list_page(links: str, expected: str | None) -> None:
    body = f"<html><body><main><a class=item href='/a'>A</a></main>{links}</body></html>"
    page = parse_list_page(body.encode(), "https://example.org/news/", "main a.item")
    assert page.next_url == expected


def test_a_selector_that_matches_nothing_is_a_problem_not_an_error() -> None:
    page = parse_list_page(b"<html><body><p>Redesigned</p></body></html>", "https://e.org/", "h2 a")
    assert page.entries == []
    assert page.problem and "h2 a" in page.problem


def test_an_invalid_selector_raises() -> None:
    with pytest.raises(ParseError, match="invalid CSS selector"):
        parse_list_page(b"<html></html>", "https://example.org/", "a[href")


@pytest.mark.parametrize(
    ("url", "title"),
    [
        ("https://e.org/2026/05/new-grading-policy/", "New grading policy"),
        ("https://e.org/reports/learner_agency-survey.html", "Learner agency survey"),
        ("https://e.org/blog/caf%C3%A9-conversations", "Café conversations"),
        ("https://e.org/node/48213", ""),
        ("https://e.org/p/5f2a9c0e7d1b4a3c9e8f", ""),
        ("https://e.org/", ""),
    ],
)
def test_title_from_url(url: str, title: str) -> None:
    assert title_from_url(url) == title


@pytest.mark.parametrize(
    ("body", "declared", "text"),
    [
        ("café".encode(), ["iso-8859-1"], "café"),
        (b"caf\xe9", ["utf-8"], "café"),
        (b"caf\xe9", [None], "café"),
        (b"\x93quoted\x94 \x96 it\x92s", ["utf-8"], "“quoted” – it’s"),
        ("naïve ".encode() + b"\x93mixed\x94", ["utf-8"], "naïve “mixed”"),
        (b"\xef\xbb\xbfbom", ["iso-8859-1"], "bom"),
        ("hé".encode("utf-16"), [None], "hé"),
        ("Привет".encode("koi8-r"), ["utf-8", "koi8-r"], "Привет"),
        (b"plain", ["no-such-charset"], "plain"),
    ],
)
def test_decode_markup_trusts_bytes_over_declarations(
    body: bytes, declared: list[str | None], text: str
) -> None:
    assert decode_markup(body, declared) == text


def test_a_feed_whose_next_page_is_itself_has_no_next_page() -> None:
    body = (
        b'<feed xmlns="http://www.w3.org/2005/Atom"><title>Loop</title>'
        b'<link rel="next" href="https://example.org/feed.atom"/></feed>'
    )
    assert parse_feed(body, "https://example.org/feed.atom").next_url is None


def xml_feed_bodies() -> list[Any]:
    demo = Path(__file__).parent.parent / "src" / "cbewatch" / "demo" / "sites"
    bodies = [*(FIXTURES / "feeds").glob("*.xml"), *(FIXTURES / "feeds").glob("*.rdf")]
    bodies += [*(FIXTURES / "feeds-agreement").glob("*.xml")]
    bodies += [*demo.glob("*/*.xml"), *demo.glob("*/*.atom")]
    return [pytest.param(p, id=p.name) for p in sorted(bodies) if "sitemap" not in p.name]


@pytest.mark.parametrize("body", xml_feed_bodies())
def test_fast_reader_agrees_with_feedparser(body: Path) -> None:
    """The lxml reader for well-formed RSS 2.0 and Atom gives what feedparser gives."""
    url = "https://feeds.example.org/feed"
    text = defuse_xml(decode_markup(body.read_bytes(), []), "https://example.org/feed")
    if read_simple_feed(text, url) is None:
        pytest.skip("left to feedparser")
    fast, slow = feeds._parse_xml_feed(text, url), feeds._parse_with_feedparser(text, url)
    assert fast.entries == slow.entries
    assert fast.next_url == slow.next_url


def test_fast_reader_takes_the_common_feeds_and_leaves_the_rest() -> None:
    def simple(name: str) -> bool:
        body = (FIXTURES / "feeds" / name).read_bytes()
        text = defuse_xml(decode_markup(body, []), "https://example.org/feed")
        return read_simple_feed(text, "https://feeds.example.org/feed") is not None

    assert simple("rss2.xml") and simple("atom-paged.xml") and simple("hostile.xml")
    assert not simple("ill-formed.xml") and not simple("rss1.rdf")


BYPASSES = {
    # a comment holding "<a" before the DOCTYPE fooled the old scanner into thinking the
    # root element had begun
    "comment": '<?xml version="1.0"?><!-- see <a href="x">this</a> -->'
    '<!DOCTYPE rss [ENTITIES]><rss version="2.0"><channel><title>&lol9;</title></channel></rss>',
    # a quoted SYSTEM literal holding ">" ended its DOCTYPE early for the old scanner
    "literal": '<?xml version="1.0"?><!DOCTYPE rss SYSTEM "a>b.dtd" [ENTITIES]>'
    '<rss version="2.0"><channel><title>&lol9;</title></channel></rss>',
    "lower-case": '<?xml version="1.0"?><!doctype rss [ENTITIES]><rss version="2.0">'
    "<channel><title>&lol9;</title></channel></rss>",
}
LAUGHS = "".join(
    ['<!ENTITY lol0 "lol">'] + [f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(1, 10)]
)


@pytest.mark.parametrize("name", sorted(BYPASSES))
def test_declared_entities_are_refused_however_the_doctype_is_dressed(name: str) -> None:
    body = BYPASSES[name].replace("ENTITIES", LAUGHS).encode()
    started = time.monotonic()
    with pytest.raises(ParseError, match="declares its own XML entities"):
        parse_feed(body, "https://example.org/feed")
    assert time.monotonic() - started < 1  # refused before any parser expands a thing
    with pytest.raises(ParseError, match="declares its own XML entities"):
        parse_sitemap(
            body.replace(b"rss", b"urlset"), "https://example.org/s.xml", NOW, timedelta(days=30)
        )


def test_a_doctype_without_entities_is_still_read() -> None:
    body = (
        b'<?xml version="1.0"?><!DOCTYPE rss SYSTEM "http://my.netscape.com/rss-0.91.dtd">'
        b'<rss version="2.0"><channel><title>t</title><item><title>A post</title>'
        b"<link>https://example.org/a</link></item></channel></rss>"
    )
    page = parse_feed(body, "https://example.org/feed")
    assert [e.title for e in page.entries] == ["A post"]

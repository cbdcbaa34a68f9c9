"""Canonical URLs: every variant of one article maps to one key (a table of cases)."""

import pytest

from cbewatch.urls import canonical_url, url_noise

SAME = [
    ("https://example.org/news/grading-pilot", "https://example.org/news/grading-pilot"),
    ("https://example.org/news/grading-pilot/", "https://example.org/news/grading-pilot"),
    ("http://example.org/news/grading-pilot", "https://example.org/news/grading-pilot"),
    ("HTTPS://Example.ORG/news/grading-pilot", "https://example.org/news/grading-pilot"),
    ("https://example.org:443/news/grading-pilot", "https://example.org/news/grading-pilot"),
    ("http://example.org:80/news/grading-pilot", "https://example.org/news/grading-pilot"),
    ("https://example.org/news/grading-pilot#comments", "https://example.org/news/grading-pilot"),
    (
        "https://example.org/news/grading-pilot?utm_source=rss&utm_medium=feed&utm_campaign=x",
        "https://example.org/news/grading-pilot",
    ),
    ("https://example.org/news/grading-pilot?fbclid=abc", "https://example.org/news/grading-pilot"),
    ("https://example.org/news/grading-pilot?gclid=1", "https://example.org/news/grading-pilot"),
    (
        "https://example.org/news/grading-pilot?mc_cid=1&mc_eid=2",
        "https://example.org/news/grading-pilot",
    ),
    ("https://example.org/news/grading-pilot?amp=1", "https://example.org/news/grading-pilot"),
    ("https://example.org/news/grading-pilot?amp", "https://example.org/news/grading-pilot"),
    ("https://example.org/news/grading-pilot/amp/", "https://example.org/news/grading-pilot"),
    ("https://example.org/news/grading-pilot/amp", "https://example.org/news/grading-pilot"),
    (
        "https://example.org/news/grading-pilot?outputType=amp",
        "https://example.org/news/grading-pilot",
    ),
    ("https://example.org", "https://example.org/"),
    ("https://example.org/", "https://example.org/"),
    ("https://example.org/a//b/", "https://example.org/a/b"),
    ("https://example.org/caf%C3%A9", "https://example.org/caf%C3%A9"),
    ("https://example.org/café", "https://example.org/caf%C3%A9"),
    ("https://example.org/p?b=2&a=1", "https://example.org/p?a=1&b=2"),
    ("https://example.org/p?id=7&utm_term=x", "https://example.org/p?id=7"),
    ("https://EXAMPLE.org./p", "https://example.org/p"),
]

DIFFERENT = [
    ("https://example.org/p?id=7", "https://example.org/p?id=8"),
    ("https://example.org/news/a", "https://example.org/news/b"),
    ("https://example.org:8443/p", "https://example.org/p"),
    ("https://example.org/amplify", "https://example.org/"),
    ("https://a.example.org/p", "https://b.example.org/p"),
]


@pytest.mark.parametrize(("url", "expected"), SAME)
def test_variants_map_to_one_canonical_url(url: str, expected: str) -> None:
    assert canonical_url(url) == expected


@pytest.mark.parametrize(("a", "b"), DIFFERENT)
def test_different_articles_stay_different(a: str, b: str) -> None:
    assert canonical_url(a) != canonical_url(b)


def test_canonical_url_is_idempotent() -> None:
    for url, _ in SAME:
        once = canonical_url(url)
        assert canonical_url(once) == once


@pytest.mark.parametrize(
    ("url", "noise"),
    [
        ("https://example.org/a", 0),
        ("https://example.org/a?id=3", 0),
        ("https://example.org/a?utm_source=x&utm_medium=rss", 2),
        ("https://example.org/a#top", 1),
        ("https://example.org/a/amp/?amp=1", 2),
    ],
)
def test_url_noise(url: str, noise: int) -> None:
    assert url_noise(url) == noise


@pytest.mark.parametrize(
    "url",
    [
        "https://a.example.org",
        "https://a.example.org/",
        "http://a.example.org/news/2026/11/post-1/",
        "https://a.example.org:8443/p/x.html",
        "https://a.example.org:443/p",
        "http://a.example.org:80/p",
        "https://a.example.org/p/amp/",
        "https://a.example.org/p/./q",
        "https://A.example.org/p",
        "https://a.example.org./p",
        "http://127.0.0.1:8123/posts/1",
        "https://a.example.org/p.",
    ],
)
def test_the_fast_path_agrees_with_the_parser(url: str) -> None:
    from cbewatch.urls import _parsed_canonical_url

    assert canonical_url(url) == _parsed_canonical_url(url)

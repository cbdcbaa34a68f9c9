"""Canonical URLs: one key per article however a feed decorates its link.

Pure functions only. The canonical form is an identity key for deduplication; the item
keeps the URL it was found at for display and fetching.
"""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, quote, unquote, urlencode, urljoin, urlsplit, urlunsplit

# Query parameters that only track the reader, never select the content.
TRACKING_PARAMS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "gbraid",
        "wbraid",
        "msclkid",
        "yclid",
        "twclid",
        "igshid",
        "mc_cid",
        "mc_eid",
        "mkt_tok",
        "_hsenc",
        "_hsmi",
        "hsctatracking",
        "_ga",
        "_gl",
        "oly_anon_id",
        "oly_enc_id",
        "vero_id",
        "vero_conv",
        "wt.mc_id",
        "wt_mc",
        "s_cid",
        "cmpid",
        "ref_src",
        "ref_url",
        "sc_cid",
        "ito",
        "ocid",
        "__s",
        "ss_source",
        "ss_campaign_id",
        "trk",
    }
)
TRACKING_PREFIXES = ("utm_", "pk_", "mtm_", "hsa_")
_AMP_SUFFIX = re.compile(r"(/amp)+/?$", re.IGNORECASE)
_DEFAULT_PORTS = {"http": 80, "https": 443}
# Characters that may stay unescaped in a path; everything else is percent-encoded once.
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


# A URL that is canonical already but for its scheme and a trailing slash: lower-case
# host, a port, plain path segments, no query or fragment. Most feed links look like
# this; they skip the parser (the store keys thousands of them per poll).
_PLAIN = re.compile(
    r"https?://(?P<host>[a-z0-9-]+(?:\.[a-z0-9-]+)*)(?P<port>:[1-9][0-9]{0,4})?"
    r"(?P<path>(?:/[A-Za-z0-9._~-]+)*)/?"
)


def absolute_http_url(value: object, base: str = "") -> str | None:
    """`value` resolved against `base` as an absolute http(s) URL with a valid host and
    port; None for anything else (file:, javascript:, tag: ids, malformed or empty)."""
    if not isinstance(value, str) or not value.strip():
        return None
    try:
        absolute = urljoin(base, value.strip())
        parts = urlsplit(absolute)
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        return None
    if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
        return None
    return absolute


def canonical_url(url: str) -> str:
    """Map the variants of one article's URL to a single key.

    Scheme and host case, default ports, fragments, tracking parameters, parameter order,
    AMP variants and a trailing slash do not make a different article. http and https
    collapse to https.
    """
    plain = _PLAIN.fullmatch(url)
    if plain and plain["port"] not in (":80", ":443") and not _AMP_SUFFIX.search(url):
        return f"https://{plain['host']}{plain['port'] or ''}{plain['path'] or '/'}"
    return _parsed_canonical_url(url)


def _parsed_canonical_url(url: str) -> str:
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        return url.strip()
    host = _host(parts.hostname or "")
    port = parts.port if parts.port not in (None, _DEFAULT_PORTS.get(scheme)) else None
    netloc = f"{host}:{port}" if port else host
    path = _path(parts.path)
    query = _query(parts.query)
    return urlunsplit(("https", netloc, path, query, ""))


def url_noise(url: str) -> int:
    """How much decoration a URL carries: tracking and AMP parameters, a fragment, an
    /amp/ suffix. Of two URLs of one article, the one with less noise is the one to show."""
    parts = urlsplit(url.strip())
    params = parse_qsl(parts.query, keep_blank_values=True)
    noise = sum(1 for key, value in params if _is_tracking(key) or _is_amp(key, value))
    return noise + bool(parts.fragment) + bool(_AMP_SUFFIX.search(parts.path))


def _host(host: str) -> str:
    host = host.lower().rstrip(".")
    try:
        return host.encode("idna").decode("ascii")
    except UnicodeError:
        return host


def _path(path: str) -> str:
    path = quote(unquote(path), safe=_PATH_SAFE) or "/"
    path = re.sub(r"/{2,}", "/", path)
    path = _AMP_SUFFIX.sub("/", path)
    if len(path) > 1:
        path = path.rstrip("/")
    return path


def _query(query: str) -> str:
    kept = [
        (key, value)
        for key, value in parse_qsl(query, keep_blank_values=True)
        if not _is_tracking(key) and not _is_amp(key, value)
    ]
    return urlencode(sorted(kept))


def _is_tracking(key: str) -> bool:
    key = key.lower()
    return key in TRACKING_PARAMS or key.startswith(TRACKING_PREFIXES)


def _is_amp(key: str, value: str) -> bool:
    key = key.lower()
    if key == "amp":
        return value.lower() in ("", "1", "true", "yes")
    return key == "outputtype" and value.lower() == "amp"

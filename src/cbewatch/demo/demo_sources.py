"""The demo's config: the five fictional organizations under `sites/`, on one loopback server.

The caller passes the `topics:` block (the same section list as the real sources.yaml), so
the topics and their keywords live in one place only.
"""

from __future__ import annotations

import json
from datetime import date
from urllib.parse import urlsplit

# The fixture sites' dates were written relative to this day. The sitemap keeps only URLs
# with a recent <lastmod>, so the window grows as the real date moves past it: two entries
# are always too old and the rest are always kept, whatever day the demo runs.
FIXTURE_TODAY = date(2026, 11, 23)
SITEMAP_MAX_AGE_DAYS = 60
TITLE = "What's New in K-12 Competency-Based Education"

# (name, path under the base URL, kind, CSS selector for item links on a list page)
_SITES = (
    ("Alder Institute", "/alder-institute/feed.xml", "feed", None),
    ("Bramble Learning Network", "/bramble-learning-network/feed.atom", "feed", None),
    ("Cedar Foundation", "/cedar-foundation/feed.json", "feed", None),
    ("Dogwood District Alliance", "/dogwood-district-alliance/news/", "page", "article h2 a"),
    ("Elm Policy Center", "/elm-policy-center/sitemap.xml", "sitemap", None),
)


def demo_sources_yaml(
    base_url: str,
    data_dir: str,
    topics_yaml: str,
    *,
    archive_url: str = "http://127.0.0.1:8000/",
    smtp_port: int | None = None,
    today: date | None = None,
) -> str:
    """The YAML text of the demo config.

    `base_url` is the fixture server's (http://127.0.0.1:PORT), `data_dir` where the demo
    keeps its database, `topics_yaml` the `topics:` block of sources.yaml (with or without
    its `topics:` line), `archive_url` the newsletter's web address in the demo, and
    `smtp_port` the port of the demo's own mail server on 127.0.0.1.
    """
    base = base_url.rstrip("/")
    parts = urlsplit(base)
    if parts.scheme != "http" or not parts.hostname or parts.port is None:
        raise ValueError(f"{base_url!r} is not a loopback base URL like http://127.0.0.1:8123")
    host_port = f"{parts.hostname}:{parts.port}"
    days_late = max(0, ((today or date.today()) - FIXTURE_TODAY).days)

    def q(text: str) -> str:  # a JSON string is a valid double-quoted YAML scalar
        return json.dumps(text, ensure_ascii=False)

    topics = topics_yaml.strip("\n")
    if not topics.lstrip().startswith("topics:"):
        topics = "topics:\n" + topics
    lines = [
        "# cbewatch demo: fictional organizations served on loopback (demo/sites).",
        f"data_dir: {q(data_dir)}",
        'user_agent: "cbewatch-demo/0.1 (+https://example.org/newsletter; offline demo)"',
        "network:",
        f"  allow_hosts: [{q(host_port)}]",
        topics,
        "sources:",
    ]
    for name, path, kind, links in _SITES:
        lines += [f"  - name: {q(name)}", f"    url: {q(base + path)}", f"    kind: {kind}"]
        if links:
            lines.append(f"    links: {q(links)}")
        if kind == "sitemap":
            lines.append(f"    max_age: {SITEMAP_MAX_AGE_DAYS + days_late}d")
        lines.append("    every: 1h")
    lines += [
        "newsletter:",
        f"  title: {q(TITLE)}",
        "  from: newsletter@example.org",
        "  reply_to: curators@example.org",
        f"  base_url: {q(archive_url)}",
    ]
    if smtp_port is not None:
        lines += ["smtp:", "  host: 127.0.0.1", f"  port: {smtp_port}", "  starttls: false"]
    return "\n".join(lines) + "\n"

"""Benchmark: the newsletter's rendering and its static archive.

(a) An archive of 120 monthly issues of 40 items each (composed below: varied text, our
    own words) built with `build_site` into an empty folder, against a rebuild after one
    new issue is added (the folder as the full build left it, a fresh Renderer: what
    `cbewatch issue build` does each month). The index and the feed depend on every
    issue, so a rebuild renders them again; the other issue pages are skipped.
(b) One 40-item issue rendered in all five forms (HTML email with its CSS inlined, text
    part, web page, archive, feed), against extracting one 12 KB article page with the
    extraction stage (`extract.read_page`: decoding, trafilatura, sanitizer, plain text).

Each side is the best of several rounds, the sides taking turns so that a slow spell on
a shared machine hits both. Every round starts as a new process's would: the Markdown
caches are cleared, the templates compiled once per Renderer; the one-time imports and
trafilatura's warm-up are left out on both sides. Builds are timed on the wall clock
(they write files), rendering and extraction in CPU time.

Last line: `issue: rebuild_vs_full=X render_40_items_vs_extract_one_page=Y`
(goals X ≤ 0.1, Y ≤ 3).
"""

from __future__ import annotations

import random
import shutil
import tempfile
import time
from pathlib import Path

from cbewatch.config import Settings
from cbewatch.extract import read_page
from cbewatch.model.types import Issue, IssueEntry, IssueSection
from cbewatch.newsletter import blurbs
from cbewatch.newsletter.render import Renderer
from cbewatch.newsletter.site import build_site

ISSUES = 120
ITEMS = 40
BUILD_ROUNDS = 5
RENDER_ROUNDS = 15

ORGANIZATIONS = [
    "Harbor Institute", "Mesa Schools Network", "Northfield Assessment Lab",
    "Cedar Valley Foundation", "Prairie Teachers Guild", "Lakeshore Coaching Collective",
    "Summit Fellowship", "Granite Learning Collaborative", "Riverbend School District",
    "Coastal Policy Center", "Juniper Charter Alliance", "Open Pathways Project",
    "Blue Ridge Rural Network", "Lantern Research Group", "Copperfield Public Schools",
    "Evergreen State Board", "Tidewater Youth Council", "Meridian Learning Lab",
]  # fmt: skip
SECTIONS = [
    "Personalized Learning", "Grading & Assessment", "Innovative Practices", "Policy",
    "Equity", "Teacher Resources", "Research", "Student Voice",
]  # fmt: skip
SUBJECTS = [
    "learner profiles", "mastery transcripts", "flexible pacing", "capstone defenses",
    "standards-based report cards", "student-led conferences", "micro-credentials",
    "portraits of a graduate", "performance tasks", "work-based learning credit",
    "competency rubrics", "advisory periods", "exhibitions of learning",
    "seat-time waivers", "multi-age classrooms", "reassessment policies",
    "learning progressions", "family conferences", "teacher teaming", "badging",
]  # fmt: skip
OPENERS = [
    "A new report from {org} looks at {link} in {n} schools.",
    "{org} published {link}, a guide for districts starting out.",
    "In a short essay, a principal at {org} describes a year of {subject}.",
    "{org} surveyed {n} teachers about {link} and what they would change.",
    "What happens when a district drops {subject}? {org} tells the story in {link}.",
    "The latest brief from **{org}** weighs the cost of {link}.",
    "{org} released {link}, with case studies from {n} classrooms.",
]  # fmt: skip
FOLLOWERS = [
    "Teachers reported fewer late assignments once deadlines became checkpoints.",
    "Students in the pilot asked for feedback more often than their peers did.",
    "The authors recommend starting with one grade band before scaling up.",
    "Families wanted plainer language on progress reports, and they got it.",
    "District leaders credit shared rubrics for a smoother rollout.",
    "The planning templates are free to adapt, e.g. for middle grades.",
    "It is *the* clearest account of the trade-offs we have read this year.",
    "Two rural schools in the U.S. Northeast share what they learned.",
    "A webinar on the findings follows next month.",
    "Its appendix lists every state policy that allows credit by demonstration.",
]  # fmt: skip


def compose_issue(month: str, rng: random.Random, items: int = ITEMS) -> Issue:
    """An issue of `items` entries in five to eight sections, blurbs of one to three
    sentences (most linking their own piece), an intro and a closing."""
    sections = rng.sample(SECTIONS, rng.randint(5, 8))
    entries: dict[str, list[IssueEntry]] = {name: [] for name in sections}
    for n in range(items):
        org = rng.choice(ORGANIZATIONS)
        subject = rng.choice(SUBJECTS)
        host = org.split()[0].lower()
        url = f"https://{host}.example.org/{month}/{subject.replace(' ', '-')}-{n}"
        title = f"{subject.capitalize()}: {rng.choice(['A Field Guide', 'Lessons', 'Year One', 'What Works', 'A Primer'])}"  # noqa: E501
        link = f"[{title}]({url})" if rng.random() < 0.8 else f"*{title}*"
        opener = rng.choice(OPENERS).format(
            org=org, link=link, subject=subject, n=rng.randint(3, 60)
        )
        blurb = " ".join([opener, *rng.sample(FOLLOWERS, rng.randint(0, 2))])
        entries[sections[n % len(sections)]].append(IssueEntry(url, title, org, blurb, n))
    year, number = month.split("-")
    return Issue(
        month=month,
        title=f"What's New in K-12 Competency-Based Education, {month}",
        intro=(
            f"This month {rng.randint(2, 9)} states moved on *{rng.choice(SUBJECTS)}*, and "
            f"[{rng.choice(ORGANIZATIONS)}](https://example.org/{month}/) opened its library. "
            + " ".join(rng.sample(FOLLOWERS, 2))
        ),
        closing="That is all. Send tips to [the editors](mailto:editors@example.org).",
        author="Ana Ruiz",
        sections=tuple(IssueSection(name, tuple(e)) for name, e in entries.items()),
        status="sent",
        sent_at=f"{year}-{number}-28T12:00:00Z",
        updated=f"{year}-{number}-28T12:00:00Z",
    )


def months(count: int, start_year: int = 2017) -> list[str]:
    return [f"{start_year + i // 12}-{i % 12 + 1:02d}" for i in range(count)]


def page_html(rng: random.Random) -> bytes:
    """An article page like the field's WordPress sites (menus, cookie banner, related
    posts, comments, footer), about 12 KB."""
    sentences = [rng.choice(FOLLOWERS) for _ in range(104)]
    paragraphs = "".join(f"<p>{' '.join(sentences[i : i + 4])}</p>" for i in range(0, 104, 4))
    menu = "".join(f'<li><a href="/topic/{i}">{s.title()}</a></li>' for i, s in enumerate(SUBJECTS))
    related = "".join(
        f'<li><a href="/posts/{i}">{rng.choice(SUBJECTS).title()}</a><p>{rng.choice(FOLLOWERS)}</p></li>'  # noqa: E501
        for i in range(12)
    )
    comments = "".join(
        f'<li class="comment"><b>Reader {i}</b><p>{rng.choice(FOLLOWERS)}</p></li>'
        for i in range(5)
    )
    title = f"{rng.choice(SUBJECTS).capitalize()} in {rng.randint(3, 60)} schools"
    return (
        f"<!doctype html><html><head><title>{title}</title>"
        f'<meta name="description" content="{sentences[0]}">'
        '<script type="application/ld+json">{"@type": "Article"}</script></head><body>'
        '<div class="cookie-banner">We use cookies. <button>Accept</button></div>'
        f"<header><nav><ul>{menu}</ul></nav></header><main><article>"
        f"<h1>{title}</h1><p class=byline>By Staff, November 2, 2026</p>{paragraphs}</article>"
        f'<aside class="sidebar"><h3>Related</h3><ul>{related}</ul></aside>'
        f'<section class="comments"><h3>Comments</h3><ul>{comments}</ul></section>'
        f"</main><footer><ul>{menu}</ul>© 2026 Example Institute</footer></body></html>"
    ).encode()


def fresh_caches() -> None:
    """A new process has parsed no Markdown yet."""
    for cached in (blurbs._events, blurbs.to_html, blurbs.to_paragraphs_html):
        cached.cache_clear()


def _rounds(seconds: list[float], unit: float = 1.0, label: str = "s") -> str:
    shown = " / ".join(f"{s * unit:.1f}{label}" for s in seconds)
    return f"{shown} (best {min(seconds) * unit:.1f}{label})"


def main() -> None:
    rng = random.Random(20261101)
    all_months = months(ISSUES + 1)
    archive = [compose_issue(m, rng) for m in all_months[:ISSUES]]
    newest = compose_issue(all_months[-1], rng)
    one_issue = archive[-1]
    full, rebuild, render, extract = [], [], [], []
    with tempfile.TemporaryDirectory() as folder:
        root = Path(folder)
        settings = Settings(path=root / "sources.yaml", data_dir=root / "var")
        read_page("https://bench.example.org/0", "text/html", "utf-8", page_html(rng))  # warm
        Renderer(settings).email_html(one_issue)  # imports, css-inline's first run
        for round_ in range(BUILD_ROUNDS):
            site = root / f"full-{round_}"
            fresh_caches()
            started = time.perf_counter()
            report = build_site(archive, Renderer(settings), site)
            full.append(time.perf_counter() - started)
            copy = root / f"rebuild-{round_}"
            shutil.copytree(site, copy)
            fresh_caches()
            started = time.perf_counter()
            again = build_site([*archive, newest], Renderer(settings), copy)
            rebuild.append(time.perf_counter() - started)
            if not round_:
                size = sum(p.stat().st_size for p in site.rglob("*") if p.is_file())
                print(f"full build: {report} ({size / 1e6:.1f} MB); rebuild: {again}")
        renderer = Renderer(settings)
        for _round in range(RENDER_ROUNDS):
            fresh_caches()
            started = time.process_time()
            forms = [
                renderer.email_html(one_issue),
                renderer.email_text(one_issue),
                renderer.issue_page(one_issue),
                renderer.archive_page([one_issue]),
                renderer.feed([one_issue]),
            ]
            render.append(time.process_time() - started)
            page = page_html(rng)
            started = time.process_time()
            read_page("https://bench.example.org/1", "text/html", "utf-8", page)
            extract.append(time.process_time() - started)
    print(f"email of {ITEMS} items: {len(forms[0].encode()) / 1024:.1f} KB; "
          f"extracted page: {len(page) / 1024:.1f} KB")  # fmt: skip
    print(f"full build of {ISSUES} issues: {_rounds(full)}")
    print(f"rebuild after one new issue: {_rounds(rebuild, 1000, 'ms')}")
    print(f"five forms of one {ITEMS}-item issue: {_rounds(render, 1000, 'ms')}")
    print(f"extracting one page: {_rounds(extract, 1000, 'ms')}")
    print(
        f"issue: rebuild_vs_full={min(rebuild) / min(full):.3f} "
        f"render_40_items_vs_extract_one_page={min(render) / min(extract):.2f}"
    )


if __name__ == "__main__":
    main()

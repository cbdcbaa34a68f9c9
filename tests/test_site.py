"""The static archive (newsletter/site.py): what a build writes, that a rebuild writes
only what changed, and that it leaves alone what it did not write."""

from __future__ import annotations

import os
import stat
from dataclasses import replace
from pathlib import Path

import feedparser
import pytest

from cbewatch.config import Settings
from cbewatch.errors import IssueError
from cbewatch.newsletter.render import Renderer
from cbewatch.newsletter.site import MANIFEST, build_site

from .issue_samples import sample_issue

ISSUES = [sample_issue("2026-09"), sample_issue("2026-10"), sample_issue("2026-11")]
ALL_FILES = {
    "index.html",
    "feed.xml",
    "issues/2026-09/index.html",
    "issues/2026-10/index.html",
    "issues/2026-11/index.html",
}


def settings(folder: Path) -> Settings:
    return Settings(path=folder / "sources.yaml", data_dir=folder / "var")


def files_under(folder: Path) -> set[str]:
    return {p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file()}


@pytest.fixture
def renderer(tmp_path: Path) -> Renderer:
    return Renderer(settings(tmp_path))


def test_a_first_build_writes_every_page(tmp_path: Path, renderer: Renderer) -> None:
    out = tmp_path / "site"
    report = build_site(ISSUES, renderer, out)
    assert set(report.written) == ALL_FILES and report.unchanged == ()
    assert str(report) == "5 files written, 0 unchanged"
    assert files_under(out) == ALL_FILES | {MANIFEST}
    page = (out / "issues/2026-10/index.html").read_text()
    assert page == renderer.issue_page(ISSUES[1])
    feed = feedparser.parse((out / "feed.xml").read_bytes())
    assert not feed.bozo and len(feed.entries) == 3
    umask = os.umask(0o022)
    os.umask(umask)
    assert stat.S_IMODE((out / "index.html").stat().st_mode) == 0o666 & ~umask


def test_a_rebuild_writes_only_what_changed(tmp_path: Path, renderer: Renderer) -> None:
    out = tmp_path / "site"
    build_site(ISSUES, renderer, out)
    again = build_site(ISSUES, Renderer(renderer.settings), out)
    assert again.written == () and set(again.unchanged) == ALL_FILES

    december = sample_issue("2026-12")
    added = build_site([*ISSUES, december], renderer, out)
    assert set(added.written) == {"issues/2026-12/index.html", "index.html", "feed.xml"}
    assert len(added.unchanged) == 3

    edited = replace(ISSUES[0], intro="A new first line for September.", version=2)
    changed = build_site([edited, *ISSUES[1:], december], renderer, out)
    # The archive shows the intro's first words; the feed holds the issue too.
    assert set(changed.written) == {"issues/2026-09/index.html", "index.html", "feed.xml"}


def test_a_rebuild_repairs_a_deleted_or_edited_page(tmp_path: Path, renderer: Renderer) -> None:
    out = tmp_path / "site"
    build_site(ISSUES, renderer, out)
    (out / "issues/2026-09/index.html").unlink()
    (out / "issues/2026-10/index.html").write_text("defaced")
    report = build_site(ISSUES, renderer, out)
    assert set(report.written) == {"issues/2026-09/index.html", "issues/2026-10/index.html"}
    assert (out / "issues/2026-10/index.html").read_text() == renderer.issue_page(ISSUES[1])


def test_an_edited_template_renders_every_page_again(tmp_path: Path) -> None:
    out = tmp_path / "site"
    build_site(ISSUES, Renderer(settings(tmp_path)), out)
    (tmp_path / "templates").mkdir()
    (tmp_path / "templates" / "issue.html").write_text(
        "<p>{{ issue.title }}</p>{% block content %}{{ issue.month }}{% endblock %}\n"
    )
    report = build_site(ISSUES, Renderer(settings(tmp_path)), out)
    assert set(report.written) == ALL_FILES - {"index.html"}  # the feed has the new content
    assert (out / "issues/2026-11/index.html").read_text().endswith("</p>2026-11")


def test_it_removes_only_what_it_wrote(tmp_path: Path, renderer: Renderer) -> None:
    out = tmp_path / "site"
    (out / "issues/2026-10").mkdir(parents=True)
    (out / "issues/2026-10/notes.txt").write_text("the operator's")
    (out / "robots.txt").write_text("User-agent: *\n")
    build_site(ISSUES, renderer, out)
    (out / "issues/2026-09/index.html").write_text("hand-edited")

    report = build_site([ISSUES[2]], renderer, out)  # September and October withdrawn
    assert report.removed == ("issues/2026-10/index.html",)
    assert files_under(out) == {
        "index.html",
        "feed.xml",
        "robots.txt",
        "issues/2026-09/index.html",  # edited since: not ours to remove
        "issues/2026-10/notes.txt",
        "issues/2026-11/index.html",
        MANIFEST,
    }
    # Once forgotten, a file is never removed later either.
    assert build_site([], renderer, out).removed == ("issues/2026-11/index.html",)
    assert "issues/2026-09/index.html" in files_under(out)


def test_a_damaged_manifest_means_render_everything(tmp_path: Path, renderer: Renderer) -> None:
    out = tmp_path / "site"
    build_site(ISSUES, renderer, out)
    (out / MANIFEST).write_text('{"version": 1, "files": {"../../etc/passwd": {"sha256": "x"}}')
    report = build_site(ISSUES, renderer, out)
    assert report.written == () and len(report.unchanged) == 5 and report.removed == ()
    (out / MANIFEST).write_text('{"version": 1, "files": {"../victim": {"sha256": "x"}}}')
    (tmp_path / "victim").write_text("keep me")
    assert build_site(ISSUES, renderer, out).removed == ()
    assert (tmp_path / "victim").read_text() == "keep me"


def test_bad_months_are_refused(tmp_path: Path, renderer: Renderer) -> None:
    with pytest.raises(IssueError, match="not a month"):
        build_site([sample_issue("../../x")], renderer, tmp_path / "site")
    assert not (tmp_path / "site" / "index.html").exists()

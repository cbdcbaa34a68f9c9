"""Render an issue as the HTML email (CSS inlined), its plain-text part, its web page,
and issues as the archive's index and Atom feed, from Jinja2 templates: the operator's
folder first, then the bundled copies. Pure: reads templates, writes nothing. Text reaches
a template escaped (autoescape) or through blurbs.to_html; never raw.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import asdict
from importlib import metadata, resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

import css_inline
from jinja2 import (
    BaseLoader,
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    TemplateError,
    TemplateNotFound,
)
from jinja2.loaders import split_template_path

from ..config import Settings
from ..errors import IssueError
from ..model.times import from_iso, to_iso
from ..model.types import Issue, IssueEntry
from . import blurbs

# The delivery replaces this in each recipient's copy with their own unsubscribe URL.
UNSUBSCRIBE_PLACEHOLDER = "%%unsubscribe_url%%"
TEMPLATES = ("email.html", "email.txt", "issue.html", "archive.html", "feed.xml")
SUFFIXES = (".html", ".txt", ".xml")  # the templates and the parts they share (_entry.html)
# The feed carries the newest issues only. Feed readers poll far more often than monthly,
# so a short feed loses no reader an issue; each entry holds a whole issue, and a rebuild
# of the archive renders every entry again (bench/issue.py: with 10 the monthly rebuild
# cost 0.11 of a full build of 120 issues, over the goal of 0.1).
FEED_ISSUES = 5
PREHEADER_CHARS = 110
SUMMARY_WORDS = 30
MONTH_NAMES = ("January", "February", "March", "April", "May", "June", "July", "August",
               "September", "October", "November", "December")  # fmt: skip
_MONTH = re.compile(r"(\d{4})-(0[1-9]|1[0-2])")
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # not even XML may hold them


def bundled_templates() -> Traversable:
    """The templates shipped with cbewatch: the project root's `templates/`, installed as
    the package `cbewatch.newsletter.templates`. A source checkout (also one run with
    PYTHONPATH=src, or a git worktree sharing another checkout's venv) uses its own root
    folder, so that the code and the templates that run always come from one tree."""
    here = Path(__file__).resolve()
    checkout = here.parents[3] / "templates"
    if here.parents[2].name == "src" and (checkout / "__init__.py").is_file():
        return checkout
    return resources.files("cbewatch.newsletter.templates")


class BundledLoader(BaseLoader):
    """Templates read from a package's files (a folder, or inside a zip). A bundled
    template stays current until the operator's folder gets a file of its name."""

    def __init__(self, root: Traversable, overrides: Path) -> None:
        self.root = root
        self.overrides = overrides

    def get_source(self, environment: Environment, template: str) -> tuple[str, str | None, Any]:
        parts = split_template_path(template)
        node = self.root
        for part in parts:
            node = node / part
        if not node.is_file():
            raise TemplateNotFound(template)
        shadow = self.overrides.joinpath(*parts)
        filename = str(node) if isinstance(node, Path) else None
        return node.read_text("utf-8"), filename, lambda: not shadow.is_file()

    def list_templates(self) -> list[str]:
        return sorted(n.name for n in self.root.iterdir() if n.is_file() and n.suffix in SUFFIXES)


def _autoescape(name: str | None) -> bool:
    return not (name or "").endswith(".txt")  # escaped unless plain text, whatever the name


class Renderer:
    """The newsletter's templates, ready to render. One may live as long as the process:
    Jinja2 checks an operator's template for changes each time it is used."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        base = settings.newsletter.base_url
        self.base_url = base if base.endswith("/") else base + "/"
        self.env = Environment(
            loader=ChoiceLoader(
                [
                    FileSystemLoader(settings.templates_dir),
                    BundledLoader(bundled_templates(), settings.templates_dir),
                ]
            ),
            autoescape=_autoescape,
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
        )
        # Mail clients drop <style>; the @media rules (dark mode, phones) cannot be inlined
        # and stay in one <style> for the clients that read it.
        self._inliner = css_inline.CSSInliner(
            keep_style_tags=False, keep_at_rules=True, load_remote_stylesheets=False
        )

    # -- the five forms ------------------------------------------------------------------

    def email_html(self, issue: Issue, unsubscribe_url: str = UNSUBSCRIBE_PLACEHOLDER) -> str:
        html = self._render("email.html", self.context(issue, unsubscribe_url=unsubscribe_url))
        try:
            return self._inliner.inline(html)
        except css_inline.InlineError as error:  # an operator's CSS it cannot read
            raise IssueError(f"email.html: its CSS cannot be inlined: {error}") from error

    def email_text(self, issue: Issue, unsubscribe_url: str = UNSUBSCRIBE_PLACEHOLDER) -> str:
        return self._render("email.txt", self.context(issue, unsubscribe_url=unsubscribe_url))

    def issue_page(self, issue: Issue) -> str:
        return self._render("issue.html", self.context(issue))

    def archive_page(self, issues: list[Issue]) -> str:
        """Every issue given (the published ones), newest first."""
        return self._render("archive.html", self.context(issues=issues))

    def feed(self, issues: list[Issue]) -> str:
        """Atom: the newest FEED_ISSUES of `issues`, each with its page's content."""
        return self._render("feed.xml", self.context(issues=issues, feed=True))

    def issue_body(self, issue: Issue) -> str:
        """The issue's page without its chrome: issue.html's block "content" alone."""
        template = self._template("issue.html")
        if "content" not in template.blocks:
            raise IssueError(
                f"{template.filename}: the feed and the HTML export need its {{% block content %}}"
            )
        context = template.new_context(self.context(issue))
        try:
            return "".join(template.blocks["content"](context)).strip()
        except TemplateError as error:
            raise IssueError(f"{template.filename}: {error}") from error

    # -- the context ---------------------------------------------------------------------

    def context(
        self,
        issue: Issue | None = None,
        issues: list[Issue] | tuple[Issue, ...] = (),
        unsubscribe_url: str = UNSUBSCRIBE_PLACEHOLDER,
        feed: bool = False,
    ) -> dict[str, Any]:
        """What every template sees (docs/templates.md lists it all): `newsletter`,
        `archive_url`, `feed_url`, `unsubscribe_url`; with an issue, `issue`, `issue_url`,
        `preheader` and `links` (the text part's numbered URLs); with issues,
        `issues` (newest first; the feed's newest FEED_ISSUES with `content_html`) and
        `updated`. Sections without entries are left out."""
        newsletter = self.settings.newsletter
        context: dict[str, Any] = {
            "newsletter": {
                "title": _line(newsletter.title),
                "base_url": self.base_url,
                "sender": newsletter.sender,
                "reply_to": newsletter.reply_to,
                "author": _line(newsletter.author),
            },
            "archive_url": self.base_url,
            "feed_url": self.base_url + "feed.xml",
            "unsubscribe_url": unsubscribe_url,
        }
        if issue is not None:
            links: list[str] = []
            context["issue"] = self._issue(issue, links)
            context["issue_url"] = context["issue"]["url"]
            context["preheader"] = _preheader(issue)
            context["links"] = links
        ordered = newest_first(issues)
        if feed:
            ordered = ordered[:FEED_ISSUES]
        summaries = [self._summary(i, with_content=feed) for i in ordered]
        context["issues"] = summaries
        context["updated"] = max((s["updated"] for s in summaries), default=_EPOCH)
        return context

    def _issue(self, issue: Issue, links: list[str]) -> dict[str, Any]:
        """The issue's values; `links` collects the text part's URLs in reading order."""
        intro_text = blurbs.to_text(issue.intro, links)
        sections = []
        for section in issue.sections:
            if section.entries:
                entries = [_entry(e, links) for e in section.entries]
                sections.append({"name": _line(section.name), "entries": entries})
        return {
            **self._header(issue),
            "intro_html": blurbs.to_paragraphs_html(issue.intro),
            "intro_text": intro_text,
            "sections": sections,
            "closing_html": blurbs.to_paragraphs_html(issue.closing),
            "closing_text": blurbs.to_text(issue.closing, links),
        }

    def _header(self, issue: Issue) -> dict[str, Any]:
        path = issue_path(issue.month)
        return {
            "month": issue.month,
            "month_name": month_name(issue.month),
            "title": _line(issue.title),
            "author": _line(issue.author),
            "url": self.base_url + path,
            "path": path,
            "status": issue.status,
            "published": _moment(issue.sent_at or issue.approved_at or issue.updated, issue),
            "updated": _moment(issue.updated or issue.approved_at or issue.sent_at, issue),
        }

    def _summary(self, issue: Issue, with_content: bool) -> dict[str, Any]:
        summary = {**self._header(issue), "summary": blurbs.first_words(issue.intro, SUMMARY_WORDS)}
        if with_content:
            summary["content_html"] = self.issue_body(issue)
        return summary

    # -- templates -----------------------------------------------------------------------

    def _template(self, name: str):
        try:
            return self.env.get_template(name)
        except TemplateNotFound:
            raise IssueError(f"there is no template {name}") from None
        except TemplateError as error:
            raise IssueError(f"template {name}: {error}") from error

    def _render(self, name: str, context: dict[str, Any]) -> str:
        template = self._template(name)
        try:
            return template.render(context)
        except TemplateError as error:
            raise IssueError(f"{template.filename or name}: {error}") from error

    def fingerprint(self) -> str:
        """A digest of everything besides the issue that a rendering depends on: the
        templates that win, the newsletter's settings, this code and the libraries that
        shape the output. The static site skips a page whose issue and fingerprint match."""
        digest = hashlib.sha256(repr(asdict(self.settings.newsletter)).encode())
        loader = self.env.loader
        assert loader is not None
        for name in sorted(set(loader.list_templates())):
            digest.update(name.encode() + b"\0" + loader.get_source(self.env, name)[0].encode())
        for module in (__file__, blurbs.__file__):
            digest.update(Path(module).read_bytes())
        for package in ("Jinja2", "markdown-it-py", "nh3", "css-inline"):
            digest.update(f"{package}={metadata.version(package)}".encode())
        return digest.hexdigest()


def _entry(entry: IssueEntry, links: list[str]) -> dict[str, Any]:
    """One entry's values. The rule for its link: when the blurb links the entry's own
    URL, the blurb is the entry; otherwise the templates add its title, linked."""
    url = entry.url if blurbs.valid_link(entry.url) else ""
    blurb_text = blurbs.to_text(entry.blurb, links)
    own = blurbs.normalize_link(url) if url else ""
    links_itself = bool(own) and own in blurbs.links_of(entry.blurb)
    number = None
    if own:
        if own not in links:
            links.append(own)
        number = links.index(own) + 1
    return {
        "url": url,
        "title": _line(entry.title) or url,
        "organization": _line(entry.organization),
        "blurb_html": blurbs.to_html(entry.blurb),
        "blurb_text": blurb_text,
        "links_itself": links_itself,
        "number": number,
        "placeholder": entry.placeholder,
    }


def newest_first(issues: list[Issue] | tuple[Issue, ...]) -> list[Issue]:
    """Issues by month, newest first; two issues of one month are refused."""
    months = [i.month for i in issues]
    for month in months:
        issue_path(month)
    if len(set(months)) != len(months):
        twice = sorted({m for m in months if months.count(m) > 1})
        raise IssueError(f"two issues for {', '.join(twice)}: publish one issue a month")
    return sorted(issues, key=lambda i: i.month, reverse=True)


def issue_path(month: str) -> str:
    """The issue's place in the archive, relative to base_url: "issues/YYYY-MM/"."""
    if not _MONTH.fullmatch(month):
        raise IssueError(f"{month!r} is not a month (YYYY-MM)")
    return f"issues/{month}/"


def month_name(month: str) -> str:
    """ "2026-11" → "November 2026" (in English, whatever the machine's locale)."""
    year, number = month.split("-")
    return f"{MONTH_NAMES[int(number) - 1]} {year}"


_EPOCH = "1970-01-01T00:00:00Z"


def _moment(text: str | None, issue: Issue) -> str:
    """An RFC 3339 moment for Atom; the first of the month when the issue has none."""
    try:
        moment = from_iso(text)
    except ValueError:
        moment = None
    return to_iso(moment) if moment else f"{issue.month}-01T00:00:00Z"


def _line(text: str) -> str:
    """One line of text: no control characters (not even XML may hold them), and no line
    breaks that would make a heading or a bullet of the text part."""
    return " ".join(_CONTROL_CHARS.sub("", text or "").split())


def _preheader(issue: Issue) -> str:
    """The inbox's preview line: the intro's first words, else the sections' names."""
    text = " ".join(blurbs.plain(issue.intro).split())
    if not text:
        names = [_line(s.name) for s in issue.sections if s.entries]
        text = "In this issue: " + ", ".join(names) if names else _line(issue.title)
    if len(text) <= PREHEADER_CHARS:
        return text
    cut = text[: PREHEADER_CHARS - 1].rsplit(" ", 1)[0]
    return cut.rstrip(",;:.-–—") + "…"

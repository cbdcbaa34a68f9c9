"""`cbewatch issue …` and `cbewatch send`: the monthly issue from a shell. Each command
parses its options, calls the service layer, and prints; none holds a rule."""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import asdict
from pathlib import Path

import click
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from ..config import Settings, load_config
from ..errors import IssueError
from ..services import delivery, publishing, sending
from ..services import issues as issue_service
from ..store import Store
from .terminal import err_console

MONTH = click.option("--month", required=True, metavar="YYYY-MM", help="The issue's month.")


def _settings(ctx: click.Context) -> Settings:
    return load_config(ctx.find_root().obj)


def _month(value: str) -> str:
    try:
        return issue_service.checked_month(value)
    except IssueError as exc:
        raise click.BadParameter(str(exc), param_hint="--month") from None


@click.group("issue")
def issue() -> None:
    """The monthly issue: show, check, approve, carry over, build the archive, export,
    import a past one."""


@issue.command("show")
@MONTH
@click.option("--json", "as_json", is_flag=True, help="The issue as one JSON object.")
@click.pass_context
def show(ctx: click.Context, month: str, as_json: bool) -> None:
    """The month's issue (the newest revision; the draft it would start as, if none)."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        found = issue_service.current(store, settings, _month(month))
        stored = store.issues.latest(found.month) is not None
    if as_json:
        click.echo(json.dumps({**asdict(found), "stored": stored}, ensure_ascii=False))
        return
    state = f"{found.status}, revision {found.revision}" if stored else "not started yet"
    click.echo(f"{found.title} · {found.month} ({state})")
    for section in found.sections:
        click.echo(f"\n{section.name} ({len(section.entries)})")
        for entry in section.entries:
            mark = " [placeholder]" if entry.placeholder else ""
            click.echo(f"  - {entry.title} ({entry.organization}){mark}\n    {entry.url}")
    click.echo(f"\n{len(found.entries)} items in {len(found.sections)} sections")


@issue.command("check")
@MONTH
@click.pass_context
def check(ctx: click.Context, month: str) -> None:
    """Lint the email and fetch every link; exit 1 when anything fails."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        found = issue_service.current(store, settings, _month(month))
    problems = publishing.email_problems(settings, found)
    problems += asyncio.run(publishing.link_problems(settings, found))
    for problem in problems:
        click.echo(problem)
    count = len(problems)
    click.echo(f"{count} problem{'' if count == 1 else 's'} in the {found.month} issue")
    if problems:
        sys.exit(1)


@issue.command("approve")
@MONTH
@click.pass_context
def approve(ctx: click.Context, month: str) -> None:
    """Approve the month's draft: frozen from now on."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        done = issue_service.approve(store, settings, _month(month))
    click.echo(f"approved the {done.month} issue (revision {done.revision})")


@issue.command("carry-over")
@MONTH
@click.pass_context
def carry_over(ctx: click.Context, month: str) -> None:
    """Add earlier months' accepted items that no issue has used to the month's draft."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        count = issue_service.carry_over_count(store, _month(month))
        done = issue_service.carry_over(store, settings, month)
    click.echo(f"carried over {count} item{'' if count == 1 else 's'} into the {done.month} issue")


@issue.command("build")
@click.option("--month", metavar="YYYY-MM", help="Make sure this month's issue is in it.")
@click.option(
    "--out",
    type=click.Path(file_okay=False, path_type=Path),
    help="The folder to write (default: data_dir/site).",
)
@click.pass_context
def build(ctx: click.Context, month: str | None, out: Path | None) -> None:
    """Write the public archive as static files (only what changed is rewritten)."""
    settings = _settings(ctx)
    target = out or settings.data_dir / "site"
    with Store(settings.db_path) as store:
        if month and issue_service.published_issue(store, _month(month)) is None:
            raise IssueError(
                f"the {month} issue is not approved yet: approve it first "
                f"(cbewatch issue approve --month {month})"
            )
        report = publishing.build(store, settings, target)
    click.echo(f"{report} in {target}")


@issue.command("export")
@MONTH
@click.option("--format", "fmt", type=click.Choice(["html", "markdown"]), default="html",
              show_default=True, help="HTML or Markdown, for a blog post.")  # fmt: skip
@click.pass_context
def export(ctx: click.Context, month: str, fmt: str) -> None:
    """Print the month's issue for pasting into a blog post."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        click.echo(publishing.export(store, settings, _month(month), fmt), nl=False)


@issue.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@MONTH
@click.pass_context
def import_(ctx: click.Context, file: Path, month: str) -> None:
    """Read a past roundup (an HTML page or its text) into the archive as the month's
    sent issue."""
    settings = _settings(ctx)
    text = file.read_text(encoding="utf-8", errors="replace")
    with Store(settings.db_path) as store:
        done = publishing.import_past(store, settings, text, _month(month))
    known = len(done.item_ids)
    click.echo(
        f"imported {len(done.entries)} items in {len(done.sections)} sections into the "
        f"{done.month} issue ({known} linked to known items)"
    )


@click.command("send")
@MONTH
@click.option("--to", "to", metavar="ADDR", help="Send one test copy to this address only.")
@click.option("--status", "status", is_flag=True, help="Only count the month's deliveries.")
@click.pass_context
def send(ctx: click.Context, month: str, to: str | None, status: bool) -> None:
    """Send the month's approved issue to every confirmed subscriber.

    Safe to run again at any time: who got it is skipped, who did not is tried again, and
    anyone in flight when a send died gets it once more (the summary names them). With
    --to, one test copy of the issue as it is now; with --status, the counts only.
    """
    if to and status:
        raise click.UsageError("give --to or --status, not both")
    settings = _settings(ctx)
    month = _month(month)
    with Store(settings.db_path) as store:
        if to:
            sent = publishing.send_test(store, settings, month, to)
            click.echo(f"sent a test copy of the {month} issue to {sent}")
            return
        if status:
            counts = delivery.delivery_status(store, month)
            click.echo(", ".join(f"{name} {count}" for name, count in counts.items()))
            return
        report = _send_with_progress(store, settings, month)
    click.echo(report.line())
    if report.left or report.stopped:
        ctx.exit(1)  # not done: run it again (cron may) once the cause is gone


def _send_with_progress(store: Store, settings: Settings, month: str) -> sending.SendReport:
    """The send, with a bar of sent / failed / left when stderr is a terminal."""
    if not err_console.is_terminal:
        return sending.send_issue(store, settings, month)
    columns = (
        TextColumn("sending"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("", total=None)

        def show(now: delivery.Tally) -> None:
            progress.update(
                task,
                total=now.total,
                completed=now.sent + now.failed,
                description=f"sent {now.sent} · failed {now.failed} · left {now.left}",
            )

        return sending.send_issue(store, settings, month, progress=show)

"""The command line: parse options, call the service layer, print. No logic of its own.

Exit codes: 0 done (some sources may have failed: `cbewatch sources` shows them),
1 the command failed, 2 bad usage or config.
"""

from __future__ import annotations

import difflib
import getpass
import json
import sys
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ..config import Settings, default_config_path, load_config
from ..errors import CbewatchError, ConfigError
from ..model.types import ITEM_STATUSES
from ..services import curation, upkeep
from ..services import sources as source_service
from ..services.issues import MONTH
from ..services.sources import FetchHooks, FetchSummary, SourceReport
from ..store import Store
from ..workers import preload_for_program
from .accounts import users
from .discover import discover_command
from .issues import issue, send
from .subscribers import subscribers
from .terminal import err_console


class _Group(click.Group):
    """Turns every CbewatchError into one plain sentence and the design's exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for problem in exc.problems:
                click.echo(str(problem), err=True)
            ctx.exit(2)
        except CbewatchError as exc:
            click.echo(f"error: {exc}", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="The config file (default ./sources.yaml, or $CBEWATCH_CONFIG).",
)
@click.version_option(package_name="cbewatch")
@click.pass_context
def cli(ctx: click.Context, config_path: Path | None) -> None:
    """cbewatch gathers what the competency-based education field publishes and helps
    curators turn it into a monthly newsletter."""
    ctx.obj = config_path or default_config_path()


cli.add_command(issue)
cli.add_command(discover_command)
cli.add_command(send)
cli.add_command(users)
cli.add_command(subscribers)


def _settings(ctx: click.Context) -> Settings:
    return load_config(ctx.obj)


def _known(kind: str, name: str, choices: list[str], where: Path) -> None:
    """Usage error (exit 2) for a name the config does not have, with the closest one."""
    if name in choices:
        return
    close = difflib.get_close_matches(name, choices, n=1)
    hint = f"; did you mean {close[0]!r}?" if close else ""
    raise click.BadParameter(f"no {kind} named {name!r} in {where}{hint}")


@cli.command("check-config")
@click.pass_context
def check_config(ctx: click.Context) -> None:
    """Validate the config; exit 2 naming file, line and key on a problem."""
    settings = _settings(ctx)
    click.echo(
        f"{settings.path}: ok ({len(settings.sources)} sources, {len(settings.topics)} topics)"
    )


@cli.command()
@click.option("--source", "names", multiple=True, metavar="NAME", help="Poll this source (again).")
@click.option("--all", "poll_all", is_flag=True, help="Poll every source, due or not.")
@click.pass_context
def fetch(ctx: click.Context, names: tuple[str, ...], poll_all: bool) -> None:
    """Poll due sources and store new items (all with --all, some with --source)."""
    settings = _settings(ctx)
    for name in names:
        _known("source", name, [s.name for s in settings.sources], settings.path)
    with Store(settings.db_path) as store:
        summary = fetch_with_progress(settings, store, names, poll_all)
    click.echo(summary.line())


def fetch_with_progress(
    settings: Settings, store: Store, names: tuple[str, ...] = (), poll_all: bool = False
) -> FetchSummary:
    """The fetch, with a progress bar when stderr is a terminal."""
    if not err_console.is_terminal:
        return source_service.fetch(store, settings, names, poll_all)
    columns = (
        TextColumn("polling"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
    )
    with Progress(*columns, console=err_console, transient=True) as progress:
        task = progress.add_task("", total=None)

        def done(report: SourceReport) -> None:
            progress.update(task, advance=1, description=report.name)

        return source_service.fetch(
            store,
            settings,
            names,
            poll_all,
            hooks=FetchHooks(
                on_start=lambda n: progress.update(task, total=n), on_source_done=done
            ),
        )


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@click.option(
    "--yield",
    "show_yield",
    is_flag=True,
    help="What each source brought in six months: seen, accepted, rejected, duplicates.",
)
@click.pass_context
def sources(ctx: click.Context, as_json: bool, show_yield: bool) -> None:
    """Sources with their health: last success, failures, next poll, last error (with
    --yield: what each brought over the last six months, and which to look at)."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        source_service.sync_sources(store, settings)
        if show_yield:
            _print_yield(source_service.source_yield(store, settings), as_json)
            return
        rows = source_service.source_rows(store, settings)
    if as_json:
        for row in rows:
            click.echo(json.dumps(row, ensure_ascii=False))
        return
    table = Table("source", "kind", "health", "last success", "fails", "next poll", "items", "note")
    for row in rows:
        table.add_row(
            row["name"],
            row["kind"],
            row["health"],
            _short_time(row["last_success"]),
            str(row["consecutive_failures"]),
            _short_time(row["next_poll"]),
            str(row["items"]),
            row["last_error"] or "",
        )
    Console().print(table)
    failing = sum(1 for r in rows if r["health"] in ("failing", "retired"))
    click.echo(f"{len(rows)} sources, {failing} failing or retired")


def _print_yield(yields: list[source_service.SourceYield], as_json: bool) -> None:
    if as_json:
        for row in yields:
            click.echo(json.dumps(row.to_json(), ensure_ascii=False))
        return
    table = Table("source", "seen", "accepted", "rejected", "duplicates", "last new", "look at")
    for row in yields:
        table.add_row(
            row.name,
            str(row.seen),
            str(row.accepted),
            str(row.rejected),
            str(row.duplicates),
            _short_time(row.last_new),
            ", ".join(row.flags),
        )
    Console().print(table)
    flagged = sum(1 for row in yields if row.flags)
    click.echo(f"{len(yields)} sources over six months, {flagged} to look at")


def _short_time(iso: str | None) -> str:
    return iso[:16].replace("T", " ") if iso else "—"


def _parse_date(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise click.BadParameter(f"{value!r} is not a date like 2026-11-01") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _check_month(_ctx: click.Context, _param: click.Parameter, value: str | None) -> Any:
    if value is not None and not MONTH.match(value):  # strptime takes "2026-1" too
        raise click.BadParameter(f"{value!r} is not a month like 2026-11")
    return value


@cli.command()
@click.option("--status", type=click.Choice(ITEM_STATUSES), help="Only items with this status.")
@click.option("--source", metavar="NAME", help="Only items from this source.")
@click.option("--since", callback=_parse_date, metavar="DATE", help="Published on or after.")
@click.option("--month", callback=_check_month, metavar="YYYY-MM", help="Published that month.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line (stable fields).")
@click.pass_context
def items(
    ctx: click.Context,
    status: str | None,
    source: str | None,
    since: datetime | None,
    month: str | None,
    as_json: bool,
) -> None:
    """Items, newest first."""
    settings = _settings(ctx)
    if source is not None:
        with Store(settings.db_path) as store:  # a source gone from the config still counts
            names = {s.name for s in settings.sources} | set(store.sources.states())
        _known("source", source, sorted(names), settings.path)
    with Store(settings.db_path) as store:
        found = curation.find_items(store, status, source, since, month)
    if as_json:
        out = sys.stdout
        for item in found:
            out.write(json.dumps(item.to_json(), ensure_ascii=False) + "\n")
        return
    table = Table("id", "published", "source", "status", "title")
    for item in found:
        table.add_row(
            str(item.id),
            (item.published or "")[:10],
            item.source,
            item.status,
            item.title or item.url,
        )
    Console().print(table)
    click.echo(f"{len(found)} items")


@cli.command()
@click.option("--retrain", is_flag=True, help="Retrain from the decisions even if unchanged.")
@click.pass_context
def rank(ctx: click.Context, retrain: bool) -> None:
    """Rescore the new items: relevance, suggested topic and why."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        summary = upkeep.rerank(store, settings, retrain=retrain)
    click.echo(summary.line())


@cli.command()
@click.argument("item_id", metavar="ID", type=int)
@click.option("--accept", is_flag=True, help="Accept the item.")
@click.option("--reject", is_flag=True, help="Reject the item.")
@click.option(
    "--topic", metavar="T", help="The newsletter section (accepting: default the suggested one)."
)
@click.option("--blurb", metavar="TEXT", help="The one-to-three-sentence blurb.")
@click.option("--by", metavar="NAME", help="Who decided (default: your login name).")
@click.pass_context
def triage(
    ctx: click.Context,
    item_id: int,
    accept: bool,
    reject: bool,
    topic: str | None,
    blurb: str | None,
    by: str | None,
) -> None:
    """The queue's decision from a shell: accept or reject item ID."""
    if accept == reject:
        raise click.UsageError("say --accept or --reject" + (", not both" if accept else ""))
    settings = _settings(ctx)
    names = [t.name for t in settings.topics]
    if topic is not None:
        _known("topic", topic, names, settings.path)
    who = by or getpass.getuser()
    with Store(settings.db_path) as store:
        decision = "accept" if accept else "reject"
        item = curation.triage(store, item_id, decision, topic, blurb, who=who, topics=names)
    shown = f" ({item.topic})" if item.status == "accepted" and item.topic else ""
    click.echo(f"item {item.id} {item.status}{shown}")


@cli.command()
@click.option("--port", type=int, default=0, help="Port for the fixture sites (default: any free).")
@click.option("--web-port", type=int, default=8000, show_default=True, help="Port for the queue.")
@click.option("--no-serve", is_flag=True, help="Stop after the fetch instead of serving the queue.")
@click.pass_context
def demo(ctx: click.Context, port: int, web_port: int, no_serve: bool) -> None:
    """The whole pipeline on bundled fictional sites served on loopback (offline), then
    the curators' queue on the demo data.

    The demo uses your config's topics and keeps its own data under data_dir/demo/."""
    from ..daemon import check_port
    from ..daemon import serve as serve_app
    from ..demo import run_demo

    if not no_serve:  # say so now, not after the whole fetch
        check_port("127.0.0.1", web_port, "--web-port (make demo PORT=…)")

    def serve_demo(settings: Settings) -> None:
        serve_app(settings, "127.0.0.1", web_port)

    run_demo(
        ctx.obj,
        port=port,
        echo=click.echo,
        fetch=fetch_with_progress,
        serve=None if no_serve else serve_demo,
        web_url=f"http://127.0.0.1:{web_port}/queue",
    )


@cli.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", type=int, default=8000, show_default=True, help="Port to listen on.")
@click.option("--no-scheduler", is_flag=True, help="Serve the web app only; no scheduled jobs.")
@click.option(
    "--log-level",
    type=click.Choice(["debug", "info", "warning", "error"]),
    default="info",
    show_default=True,
    help="How much to log: info is a line per job run and per error; debug adds requests.",
)
@click.option(
    "--forwarded-allow-ips",
    default="",
    metavar="IPS",
    help="Proxies (comma-separated addresses) whose X-Forwarded-For/-Proto are believed; "
    "default none.",
)
@click.pass_context
def serve(
    ctx: click.Context,
    host: str,
    port: int,
    no_scheduler: bool,
    log_level: str,
    forwarded_allow_ips: str,
) -> None:
    """The web app and the scheduler (polls, nightly backup, pruning) in one process."""
    from ..daemon import serve as serve_app

    serve_app(
        _settings(ctx),
        host,
        port,
        scheduler=not no_scheduler,
        forwarded_allow_ips=forwarded_allow_ips,
        log_level=log_level,
    )


@cli.command()
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Overwrite FILE if it exists.")
@click.pass_context
def backup(ctx: click.Context, file: Path, force: bool) -> None:
    """A consistent copy of the database in FILE, safe while serve is writing."""
    settings = _settings(ctx)
    upkeep.backup_to_file(settings, file, force=force)
    click.echo(f"backed up {settings.db_path} to {file}")


@cli.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--force", is_flag=True, help="Replace a database that has data.")
@click.pass_context
def restore(ctx: click.Context, file: Path, force: bool) -> None:
    """Put a backup (FILE, made by `backup` or the nightly job) in place of the database.
    Stop serve first; the database it replaces is kept beside it as .before-restore."""
    settings = _settings(ctx)
    kept = upkeep.restore_from_file(settings, file, force=force)
    note = f" (the one it replaced: {kept})" if kept else ""
    click.echo(f"restored {settings.db_path} from {file}{note}")


def main() -> None:
    # The `cbewatch` script's workers run it again when they start (see workers.py):
    # with this module preloaded in their fork server, that costs them nothing.
    preload_for_program(__name__)
    cli(prog_name="cbewatch")

"""`cbewatch subscribers …`: the subscriber list from a shell (add, import, export, list,
remove). Each command parses its options, calls services.subscribers, and prints; none
holds a rule. Never prints a confirmation link: only the address's owner may confirm.
"""

from __future__ import annotations

import json
import sys
from dataclasses import asdict
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from ..config import Settings, load_config
from ..errors import DeliveryError, SubscriberError
from ..mail.links import mail_tokens
from ..mail.opt_in import Step
from ..model.types import SUBSCRIBER_STATUSES
from ..services import subscribers as subscriber_service
from ..store import Store


def _settings(ctx: click.Context) -> Settings:
    return load_config(ctx.find_root().obj)


@click.group("subscribers")
def subscribers() -> None:
    """The subscriber list: add, import, export, list, remove."""


@subscribers.command("add")
@click.argument("email")
@click.option("--name", metavar="N", default="", help="The subscriber's name.")
@click.option(
    "--confirmed",
    is_flag=True,
    help="They consented already: add as confirmed, send nothing.",
)
@click.pass_context
def add(ctx: click.Context, email: str, name: str, confirmed: bool) -> None:
    """Add EMAIL. Without --confirmed it is pending and gets a confirmation email (over
    the config's SMTP server); it is subscribed once its owner presses Confirm."""
    settings = _settings(ctx)
    tokens = mail_tokens(settings)
    with Store(settings.db_path) as store:
        try:
            done = subscriber_service.add(
                store, settings, tokens, email, name, consented=confirmed, source="cli"
            )
        except DeliveryError as exc:
            again = "it is on the list as pending: run this again to resend"
            raise DeliveryError(exc.recipient, f"{exc.reason}; {again}") from None
    address = done.subscriber.email
    if done.step is Step.ALREADY:
        click.echo(f"{address} is on the list already (confirmed)")
    elif done.mailed:
        click.echo(f"{address} is pending: a confirmation email went to it")
    else:
        click.echo(f"{address} is confirmed")


@subscribers.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option(
    "--confirmed",
    is_flag=True,
    help="Everyone in FILE consented: add them as confirmed (else pending, and not mailed).",
)
@click.option(
    "--source", metavar="TEXT", help="Where their consent came from (default: import:FILE)."
)
@click.pass_context
def import_(ctx: click.Context, file: Path, confirmed: bool, source: str | None) -> None:
    """Import a CSV list (another tool's export): bad rows are reported by line and
    skipped, repeated addresses merged; nothing is mailed."""
    settings = _settings(ctx)
    try:
        text = file.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError:
        raise SubscriberError(f"{file} is not UTF-8 text: save it as CSV UTF-8") from None
    with Store(settings.db_path) as store:
        report = subscriber_service.import_list(
            store, text, confirmed, source or f"import:{file.name}"
        )
    for problem in report.problems:
        click.echo(f"{file}: {problem}", err=True)
    click.echo(report.line())


@subscribers.command("export")
@click.argument("file", required=False, type=click.Path(dir_okay=False, path_type=Path))
@click.pass_context
def export(ctx: click.Context, file: Path | None) -> None:
    """Write the list as CSV (email,name,status,created,confirmed,unsubscribed) to FILE,
    or to standard output."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        if file is None:
            subscriber_service.export_list(store, sys.stdout)
            return
        with file.open("w", encoding="utf-8", newline="") as out:
            count = subscriber_service.export_list(store, out)
    click.echo(f"exported {count} subscriber{'' if count == 1 else 's'} to {file}", err=True)


@subscribers.command("list")
@click.option("--status", type=click.Choice(SUBSCRIBER_STATUSES), help="Only this status.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object a line.")
@click.pass_context
def list_(ctx: click.Context, status: str | None, as_json: bool) -> None:
    """Subscribers in the order they came."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        found = subscriber_service.find(store, status)
    if as_json:
        for subscriber in found:
            click.echo(json.dumps(asdict(subscriber), ensure_ascii=False))
        return
    table = Table("email", "name", "status", "created", "confirmed", "source")
    for s in found:
        table.add_row(s.email, s.name, s.status, s.created[:10], (s.confirmed or "")[:10], s.source)
    Console().print(table)
    click.echo(f"{len(found)} subscriber{'' if len(found) == 1 else 's'}")


@subscribers.command("remove")
@click.argument("emails", metavar="EMAIL…", nargs=-1, required=True)
@click.pass_context
def remove(ctx: click.Context, emails: tuple[str, ...]) -> None:
    """Forget these addresses and their delivery records (to stop mail but keep the
    record, let them unsubscribe instead). Exit 1 if one was not on the list."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        removed, missing = subscriber_service.remove(store, emails)
    for address in missing:
        click.echo(f"not on the list: {address}", err=True)
    click.echo(f"removed {len(removed)}")
    if missing:
        sys.exit(1)

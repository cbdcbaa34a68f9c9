"""`cbewatch users …`: the curators' accounts from a shell. Parse, call the service,
print; passwords are read from a prompt or standard input and never echoed."""

from __future__ import annotations

import sys

import click

from ..config import Settings, load_config
from ..services import accounts
from ..store import Store


def _settings(ctx: click.Context) -> Settings:
    return load_config(ctx.find_root().obj)


def _password(password_stdin: bool) -> str:
    if password_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return click.prompt("Password", hide_input=True, confirmation_prompt=True)


@click.group()
def users() -> None:
    """Curator accounts for the web queue."""


@users.command("add")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_add(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """Create the curator NAME, or set a new password for it."""
    settings = _settings(ctx)  # a broken config says so before anyone types a password
    accounts.check_name(name)
    password = _password(password_stdin)
    with Store(settings.db_path) as store:
        created = accounts.add_user(store, name, password)
    click.echo(f"{'added' if created else 'changed the password of'} {name}")


@users.command("passwd")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")
@click.pass_context
def users_passwd(ctx: click.Context, name: str, password_stdin: bool) -> None:
    """A new password for the curator NAME (every session of NAME ends)."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        accounts.existing(store, name)
        password = _password(password_stdin)
        accounts.add_user(store, name, password)
    click.echo(f"changed the password of {name}; every session of {name} has ended")


@users.command("list")
@click.pass_context
def users_list(ctx: click.Context) -> None:
    """Every curator account, with the day it was made."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        found = accounts.list_users(store)
    for user in found:
        click.echo(f"{user.name}\t{user.created[:10]}")
    click.echo(f"{len(found)} curator{'' if len(found) == 1 else 's'}")


@users.command("remove")
@click.argument("name")
@click.pass_context
def users_remove(ctx: click.Context, name: str) -> None:
    """Remove the curator NAME: its sessions end at once; its decisions stay in the
    items' history under its name."""
    settings = _settings(ctx)
    with Store(settings.db_path) as store:
        accounts.remove_user(store, name)
    click.echo(f"removed {name}")

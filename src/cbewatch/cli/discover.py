"""`cbewatch discover URL [--add]`: how to follow a site, as a ready sources.yaml entry."""

from __future__ import annotations

import asyncio

import click

from ..config import load_config
from ..services import sources as source_service


@click.command("discover")
@click.argument("url")
@click.option("--add", is_flag=True, help="Append the entry to the config and check it.")
@click.pass_context
def discover_command(ctx: click.Context, url: str, add: bool) -> None:
    """Find a site's feed (else its sitemap, else a list page and a selector for its
    item links) from one of its pages, and print a ready sources.yaml entry.

    Exits 1 when the page offers nothing to follow."""
    settings = load_config(ctx.find_root().obj)
    proposal = asyncio.run(source_service.propose_source(settings, url))
    if proposal is None:
        click.echo(
            f"error: found no feed, sitemap or list of articles at {url}: "
            "add it by hand (kind: page with a links: selector)",
            err=True,
        )
        ctx.exit(1)
    click.echo(f"# {proposal.found()}")
    click.echo(proposal.yaml_entry(), nl=False)
    if add:
        checked = source_service.add_proposal(settings, proposal)
        click.echo(
            f"added {proposal.name!r} to {settings.path}: ok ({len(checked.sources)} sources, "
            f"{len(checked.topics)} topics)"
        )

"""The docs name every command and option the CLI has (datasette's test_docs idea)."""

from pathlib import Path

import click
import pytest

from cbewatch.cli import cli

ROOT = Path(__file__).parent.parent
DOCS = "\n".join(p.read_text() for p in [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))])


def _commands(group: click.Group, prefix: str = "") -> list[tuple[str, click.Command]]:
    """Every command, the subcommands of groups (`issue show`, `subscribers add`) too."""
    found = []
    for name, command in sorted(group.commands.items()):
        found.append((prefix + name, command))
        if isinstance(command, click.Group):
            found += _commands(command, f"{prefix}{name} ")
    return found


COMMANDS = _commands(cli)


def test_readme_quick_start_is_the_two_commands() -> None:
    quick = (ROOT / "README.md").read_text().split("## Quick start", 1)[1].split("##", 1)[0]
    commands = [line.strip() for line in quick.splitlines() if line.startswith("    ")]
    assert commands == ["make demo", "make test"]


@pytest.mark.parametrize(("name", "command"), COMMANDS)
def test_every_command_and_option_is_documented(name: str, command: click.Command) -> None:
    assert f"cbewatch {name}" in DOCS
    for param in command.params:
        for opt in getattr(param, "opts", []):
            if opt.startswith("--") and opt != "--help":
                assert opt in DOCS, f"{name} {opt} is not in README.md or docs/"

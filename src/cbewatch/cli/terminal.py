"""The terminal the commands draw on: progress bars go to stderr (only when it is a
terminal), so stdout stays the one summary line a script reads."""

from __future__ import annotations

from rich.console import Console

err_console = Console(stderr=True)

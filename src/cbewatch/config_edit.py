"""Adding a source to an operator's `sources.yaml` as text: the new entry goes after the
last item of `sources:`, indented like its neighbours, so every comment and the order of
everything else stay as the operator wrote them. The file is checked after the change,
and put back as it was when the check fails."""

from __future__ import annotations

from pathlib import Path

import yaml

from .config import Settings, load_config
from .errors import ConfigError, ConfigProblem


def add_source(path: Path, entry: str, url: str) -> Settings:
    """Insert `entry` (a `  - name: …` block) under `sources:` in the file at `path`;
    ConfigError when the URL is there already, the list is written inline, or the file
    no longer checks (then the file is left as it was)."""
    text = path.read_text(encoding="utf-8")
    settings = load_config(path)
    for source in settings.sources:
        if source.url == url:
            raise _problem(path, f"{url} is in the config already, as {source.name!r}")
    updated = _inserted(path, text, entry)
    path.write_text(updated, encoding="utf-8")
    try:
        return load_config(path)
    except ConfigError:
        path.write_text(text, encoding="utf-8")
        raise


def _inserted(path: Path, text: str, entry: str) -> str:
    root = yaml.compose(text, Loader=yaml.SafeLoader)
    node = None
    if isinstance(root, yaml.MappingNode):
        node = next((v for k, v in root.value if k.value == "sources"), None)
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n"
    if node is None or (isinstance(node, yaml.ScalarNode) and node.value in ("", "~", "null")):
        if node is not None:  # `sources:` with nothing under it
            lines.insert(node.start_mark.line + 1, entry)
            return "".join(lines)
        return "".join(lines) + "sources:\n" + entry
    if not isinstance(node, yaml.SequenceNode) or node.flow_style:
        raise _problem(path, "sources is written inline ([...]); add the entry by hand")
    if not node.value:
        raise _problem(path, "sources is an empty inline list; add the entry by hand")
    dash = node.value[0].start_mark.column - 2
    shifted = "".join(" " * max(dash, 0) + line[2:] for line in entry.splitlines(keepends=True))
    lines.insert(_last_line(node.value[-1]) + 1, shifted)
    return "".join(lines)


def _last_line(node: yaml.Node) -> int:
    """The last line holding a value of `node` (a block node's own end mark lies past
    the blank lines and comments that follow it)."""
    if isinstance(node, yaml.ScalarNode):
        return node.end_mark.line
    if isinstance(node, yaml.MappingNode):
        return max(_last_line(part) for pair in node.value for part in pair)
    if isinstance(node, yaml.SequenceNode) and node.value:
        return max(_last_line(part) for part in node.value)
    return node.end_mark.line


def _problem(path: Path, message: str) -> ConfigError:
    return ConfigError([ConfigProblem(str(path), 0, "sources", message)])

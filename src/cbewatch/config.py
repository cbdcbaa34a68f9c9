"""sources.yaml → frozen, validated settings. Every problem names file, line and key.

This is the only module that reads YAML or environment variables: the rest of the code
gets plain values from `Settings`.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, available_timezones

import soupsieve
import yaml

from .errors import ConfigError, ConfigProblem
from .urls import absolute_http_url

CONFIG_ENV = "CBEWATCH_CONFIG"
DEFAULT_CONFIG = "sources.yaml"
SOURCE_KINDS = ("feed", "page", "sitemap")
DEFAULT_USER_AGENT = "cbewatch/0.1 (+https://github.com/cbewatch/cbewatch)"


@dataclass(frozen=True)
class Topic:
    name: str
    keywords: tuple[str, ...] = ()


@dataclass(frozen=True)
class Source:
    name: str
    url: str
    kind: str = "feed"
    every: timedelta = timedelta(hours=6)
    include: tuple[str, ...] = ()
    exclude: tuple[str, ...] = ()
    links: str | None = None  # CSS selector for item links (kind: page)
    max_pages: int = 3  # "next" pages followed on a source's first poll
    max_age: timedelta = timedelta(days=60)  # sitemaps: only URLs with a recent lastmod


DEFAULT_CLOSING = (
    "For more news from the field, subscribe to this newsletter and read every past "
    "issue in the archive."
)


@dataclass(frozen=True)
class Newsletter:
    title: str = "What's New in K-12 Competency-Based Education"
    sender: str = "newsletter@example.org"  # the `from` key
    reply_to: str | None = None
    base_url: str = "http://127.0.0.1:8000/"
    author: str = ""  # the author line a new issue starts with
    closing: str = DEFAULT_CLOSING  # a new issue's closing line (Markdown-light)
    # The operator's own templates (a file here wins over the bundled one of its name);
    # relative to the config file's folder.
    templates: Path = Path("templates")


@dataclass(frozen=True)
class Smtp:
    host: str = "localhost"
    port: int = 587
    starttls: bool = True  # upgrade a plain connection (port 587)
    tls: bool = False  # implicit TLS from the first byte (port 465); then starttls is off
    username: str | None = None
    password_env: str = "SMTP_PASSWORD"
    rate: float = 20.0  # messages a second, at most, over all connections
    concurrency: int = 4  # connections open at once, each reused for many messages
    # Seconds before a 4xx-refused message is tried again in the same run (doubling,
    # three tries); what still fails waits for the next `cbewatch send`.
    retry_delay: float = 30.0

    def password(self) -> str | None:
        return os.environ.get(self.password_env) if self.password_env else None


@dataclass(frozen=True)
class Network:
    allow_hosts: tuple[str, ...] = ()  # host:port that may resolve to private addresses
    per_host: int = 2
    max_connections: int = 16
    connect_timeout: float = 10.0
    read_timeout: float = 20.0
    deadline: float = 60.0  # wall clock for one whole request, body included
    max_bytes: int = 10_000_000  # decoded bytes
    max_redirects: int = 5
    # Seconds a run spends reading item pages; pages not read by then wait for the next run.
    run_budget: float = 180.0


@dataclass(frozen=True)
class Settings:
    path: Path
    data_dir: Path
    user_agent: str = DEFAULT_USER_AGENT
    topics: tuple[Topic, ...] = ()
    sources: tuple[Source, ...] = ()
    newsletter: Newsletter = field(default_factory=Newsletter)
    network: Network = field(default_factory=Network)
    smtp: Smtp = field(default_factory=Smtp)
    # The zone the pages show times in (an IANA name); None: the server's local zone.
    timezone: str | None = None

    @property
    def zone(self) -> ZoneInfo | None:
        """The configured zone; None means the server's local one (`datetime.astimezone()`
        with no argument, which follows the system's daylight-saving rules)."""
        return ZoneInfo(self.timezone) if self.timezone else None

    @property
    def db_path(self) -> Path:
        return self.data_dir / "cbewatch.db"

    @property
    def templates_dir(self) -> Path:
        """The operator's newsletter templates (`newsletter.templates`, relative to the
        config file's folder)."""
        folder = self.newsletter.templates
        return folder if folder.is_absolute() else (self.path.parent / folder).resolve()

    def source(self, name: str) -> Source | None:
        return next((s for s in self.sources if s.name == name), None)


def default_config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


def load_config(path: str | os.PathLike[str] | None = None) -> Settings:
    """Read and validate a config file; raise ConfigError listing every problem."""
    path = Path(path) if path is not None else default_config_path()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError([ConfigProblem(str(path), 0, "", "no such file")]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([ConfigProblem(str(path), 0, "", f"cannot be read ({exc})")]) from None
    return parse_config(text, path)


def parse_config(text: str, path: Path) -> Settings:
    checker = _Checker(str(path))
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 0
        problem = getattr(exc, "problem", None) or str(exc)
        problems = [ConfigProblem(str(path), line, "", f"not valid YAML: {problem}")]
        raise ConfigError(problems) from None
    if root is None:
        message = "the file is empty: name the topics and sources to watch (docs/configuration.md)"
        raise ConfigError([ConfigProblem(str(path), 0, "", message)])
    settings = checker.settings(root, path)
    if checker.problems:
        raise ConfigError(sorted(checker.problems, key=lambda p: p.line))
    return settings


# ---------------------------------------------------------------------------------------
# Validation: walk the YAML node tree (which keeps line numbers) with small typed readers.

_DURATION = re.compile(r"^\s*(\d+)\s*(s|m|h|d|w)\s*$")
_UNITS = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days", "w": "weeks"}


def parse_duration(text: str) -> timedelta:
    """'30m', '6h', '1d' → timedelta; ValueError otherwise."""
    match = _DURATION.match(str(text))
    if not match:
        raise ValueError(f"{text!r} is not a duration like 30m, 6h or 1d")
    amount, unit = match.groups()
    if int(amount) <= 0:
        raise ValueError("must be longer than zero")
    return timedelta(**{_UNITS[unit]: int(amount)})


def _valid_url(text: str) -> str:
    if absolute_http_url(text) != text.strip():
        raise ValueError(f"{text!r} is not an http(s) URL")
    return text


def _valid_selector(text: str) -> str:
    try:
        soupsieve.compile(text)
    except Exception as exc:  # soupsieve raises SelectorSyntaxError and friends
        first_line = str(exc).splitlines()[0]
        raise ValueError(f"{text!r} is not a valid CSS selector ({first_line})") from None
    return text


def _valid_timezone(text: str) -> str:
    if text in available_timezones():
        return text
    close = difflib.get_close_matches(text, sorted(available_timezones()), n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else " (an IANA name like Europe/Paris)"
    raise ValueError(f"unknown time zone {text!r}{hint}")


def _valid_host_port(text: str) -> str:
    host, sep, port = text.rpartition(":")
    if not sep or not host or not port.isdigit():
        raise ValueError(f"{text!r} must be host:port, like 127.0.0.1:8123")
    return text


class _Checker:
    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[ConfigProblem] = []

    def problem(self, node: yaml.Node | None, key: str, message: str) -> None:
        line = node.start_mark.line + 1 if node is not None else 0
        self.problems.append(ConfigProblem(self.file, line, key, message))

    # -- generic readers -------------------------------------------------------------

    def mapping(
        self, node: yaml.Node, key: str, known: tuple[str, ...]
    ) -> dict[str, yaml.Node] | None:
        if not isinstance(node, yaml.MappingNode):
            self.problem(node, key, "must be a mapping of keys to values")
            return None
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            name = str(key_node.value)
            path = f"{key}.{name}" if key else name
            if name not in known:
                close = difflib.get_close_matches(name, known, n=1)
                hint = f" (did you mean '{close[0]}'?)" if close else ""
                self.problem(key_node, path, f"unknown key{hint}")
            elif name in out:
                self.problem(key_node, path, "appears twice")
            else:
                out[name] = value_node
        return out

    def scalar(self, node: yaml.Node, key: str, kind: type, convert: Callable | None = None) -> Any:
        if not isinstance(node, yaml.ScalarNode):
            self.problem(node, key, f"must be {_type_name(kind)}")
            return None
        if kind is str:  # text as written: a name like 2024 or 1.0 stays text
            value = "" if node.tag == "tag:yaml.org,2002:null" else node.value
        else:
            try:
                value = yaml.constructor.SafeConstructor().construct_object(node)
            except (ValueError, yaml.YAMLError):  # e.g. a date that does not exist
                self.problem(node, key, f"must be {_type_name(kind)} (got {node.value!r})")
                return None
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            self.problem(node, key, f"must be {_type_name(kind)} (got {node.value!r})")
            return None
        if kind is str and not value.strip():
            self.problem(node, key, "must not be empty")
            return None
        if convert is not None:
            try:
                return convert(value)
            except ValueError as exc:
                self.problem(node, key, str(exc))
                return None
        return value

    def strings(self, node: yaml.Node, key: str) -> tuple[str, ...] | None:
        if isinstance(node, yaml.ScalarNode) and node.value:
            node = yaml.SequenceNode(
                "tag:yaml.org,2002:seq", [node]
            )  # a lone word is a list of one
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, key, "must be a list of words or phrases")
            return None
        values = [self.scalar(item, f"{key}[{i}]", str) for i, item in enumerate(node.value)]
        return tuple(v for v in values if v is not None)

    def read(self, nodes: dict[str, yaml.Node], prefix: str, spec: dict[str, tuple]) -> dict:
        """Read the keys of `spec` (name → (kind, convert)) present in `nodes`."""
        out: dict[str, Any] = {}
        for name, (kind, convert) in spec.items():
            if name not in nodes:
                continue
            key = f"{prefix}.{name}" if prefix else name
            value = (
                self.strings(nodes[name], key)
                if kind is tuple
                else self.scalar(nodes[name], key, kind, convert)
            )
            if value is not None:
                out[name] = value
        return out

    # -- sections --------------------------------------------------------------------

    def settings(self, root: yaml.Node, path: Path) -> Settings:
        top = self.mapping(
            root,
            "",
            (
                "data_dir",
                "user_agent",
                "topics",
                "sources",
                "newsletter",
                "network",
                "smtp",
                "timezone",
            ),
        )
        top = top or {}
        plain = self.read(
            top,
            "",
            {
                "data_dir": (str, None),
                "user_agent": (str, None),
                "timezone": (str, _valid_timezone),
            },
        )
        base = path.parent
        data_dir = Path(plain.get("data_dir", "var")).expanduser()
        if not data_dir.is_absolute():
            data_dir = (base / data_dir).resolve()
        return Settings(
            path=path,
            data_dir=data_dir,
            user_agent=plain.get("user_agent", DEFAULT_USER_AGENT),
            topics=self.topics(top["topics"]) if "topics" in top else (),
            sources=self.sources(top["sources"]) if "sources" in top else (),
            newsletter=self.newsletter(top["newsletter"]) if "newsletter" in top else Newsletter(),
            network=self.network(top["network"]) if "network" in top else Network(),
            smtp=self.smtp(top["smtp"]) if "smtp" in top else Smtp(),
            timezone=plain.get("timezone"),
        )

    def topics(self, node: yaml.Node) -> tuple[Topic, ...]:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "topics", "must be a list of topics, each with a name")
            return ()
        topics: list[Topic] = []
        seen: set[str] = set()
        for i, item in enumerate(node.value):
            key = f"topics[{i}]"
            if isinstance(item, yaml.ScalarNode):  # a bare topic name
                name = self.scalar(item, key, str)
                values = {"name": name} if name else {}
            else:
                nodes = self.mapping(item, key, ("name", "keywords"))
                if nodes is None:
                    continue
                values = self.read(nodes, key, {"name": (str, None), "keywords": (tuple, None)})
                if "name" not in nodes:
                    self.problem(item, f"{key}.name", "is required")
            if "name" not in values:
                continue
            if values["name"] in seen:
                self.problem(item, f"{key}.name", f"topic {values['name']!r} appears twice")
                continue
            seen.add(values["name"])
            topics.append(Topic(**values))
        return tuple(topics)

    def sources(self, node: yaml.Node) -> tuple[Source, ...]:
        if not isinstance(node, yaml.SequenceNode):
            self.problem(node, "sources", "must be a list of sources")
            return ()
        sources: list[Source] = []
        seen: set[str] = set()
        spec = {
            "name": (str, None),
            "url": (str, _valid_url),
            "kind": (str, None),
            "every": (str, parse_duration),
            "include": (tuple, None),
            "exclude": (tuple, None),
            "links": (str, _valid_selector),
            "max_pages": (int, _positive),
            "max_age": (str, parse_duration),
        }
        for i, item in enumerate(node.value):
            key = f"sources[{i}]"
            nodes = self.mapping(item, key, tuple(spec))
            if nodes is None:
                continue
            before = len(self.problems)
            values = self.read(nodes, key, spec)
            for required in ("name", "url"):
                if required not in nodes:
                    self.problem(item, f"{key}.{required}", "is required")
            kind = values.get("kind", "feed")
            if kind not in SOURCE_KINDS:
                self.problem(
                    nodes["kind"],
                    f"{key}.kind",
                    f"must be one of {', '.join(SOURCE_KINDS)} (got {kind!r})",
                )
            if kind == "page" and "links" not in nodes:
                self.problem(item, f"{key}.links", "is required for kind: page (a CSS selector)")
            name = values.get("name")
            if name is not None:
                if name in seen:
                    self.problem(nodes["name"], f"{key}.name", f"source {name!r} appears twice")
                seen.add(name)
            if len(self.problems) == before:
                sources.append(Source(**values))
        return tuple(sources)

    def newsletter(self, node: yaml.Node) -> Newsletter:
        spec = {
            "title": (str, None),
            "from": (str, None),
            "reply_to": (str, None),
            "base_url": (str, _valid_url),
            "author": (str, None),
            "closing": (str, None),
            "templates": (str, None),
        }
        nodes = self.mapping(node, "newsletter", tuple(spec))
        values = self.read(nodes or {}, "newsletter", spec)
        if "from" in values:
            values["sender"] = values.pop("from")
        templates = Path(values.pop("templates", "templates")).expanduser()
        return Newsletter(**values, templates=templates)

    def network(self, node: yaml.Node) -> Network:
        spec = {
            "allow_hosts": (tuple, None),
            "per_host": (int, _positive),
            "max_connections": (int, _positive),
            "connect_timeout": (float, _positive),
            "read_timeout": (float, _positive),
            "deadline": (float, _positive),
            "max_bytes": (int, _positive),
            "max_redirects": (int, _non_negative),
            "run_budget": (float, _positive),
        }
        nodes = self.mapping(node, "network", tuple(spec))
        values = self.read(nodes or {}, "network", spec)
        hosts_node = (nodes or {}).get("allow_hosts")
        for i, host in enumerate(values.get("allow_hosts", ())):
            try:
                _valid_host_port(host)
            except ValueError as exc:
                item = (
                    hosts_node.value[i] if isinstance(hosts_node, yaml.SequenceNode) else hosts_node
                )
                self.problem(item, f"network.allow_hosts[{i}]", str(exc))
        return Network(**values)

    def smtp(self, node: yaml.Node) -> Smtp:
        spec = {
            "host": (str, None),
            "port": (int, _positive),
            "starttls": (bool, None),
            "tls": (bool, None),
            "username": (str, None),
            "password_env": (str, None),
            "rate": (float, _positive),
            "concurrency": (int, _positive),
            "retry_delay": (float, _not_negative),
        }
        nodes = self.mapping(node, "smtp", tuple(spec))
        values = self.read(nodes or {}, "smtp", spec)
        if values.get("tls") and values.get("starttls"):
            self.problem(nodes["tls"], "smtp.tls", "tls and starttls cannot both be true")
        elif values.get("tls"):
            values["starttls"] = False  # implicit TLS: nothing to upgrade
        return Smtp(**values)


def _not_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"must not be negative (got {value})")
    return value


def _positive(value: float) -> float:
    if value <= 0:
        raise ValueError(f"must be greater than zero (got {value})")
    return value


def _non_negative(value: float) -> float:
    if value < 0:
        raise ValueError(f"must not be negative (got {value})")
    return value


def _type_name(kind: type) -> str:
    return {
        str: "text",
        int: "a whole number",
        float: "a number",
        bool: "true or false",
    }.get(kind, kind.__name__)

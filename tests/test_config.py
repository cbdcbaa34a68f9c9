"""Config validation: every problem names file, line and key, and exits 2 from the CLI."""

from datetime import datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from cbewatch.cli import cli
from cbewatch.config import load_config, parse_config, parse_duration
from cbewatch.errors import ConfigError

GOOD = """\
data_dir: data
user_agent: "cbewatch-test/1.0 (+https://example.org)"
topics:
  - name: Personalized Learning
    keywords: [personalized learning, learner profile]
  - Policy
sources:
  - name: Alder Institute
    url: https://alder.example.org/feed/
    every: 30m
    include: [competency, mastery]
  - name: Dogwood news
    url: https://dogwood.example.org/news/
    kind: page
    links: "article h2 a"
    max_pages: 2
newsletter: {title: What's New, from: news@example.org, base_url: https://example.org/n/}
network:
  allow_hosts: ["127.0.0.1:8123"]
smtp: {host: mail.example.org, port: 587, starttls: true, password_env: SMTP_PW}
"""


def problems(tmp_path: Path, text: str) -> list[str]:
    path = tmp_path / "sources.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load_config(path)
    return [str(p).replace(str(path), "sources.yaml") for p in info.value.problems]


def test_good_config_loads_into_typed_settings(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text(GOOD)
    settings = load_config(path)
    assert settings.data_dir == (tmp_path / "data").resolve()
    assert settings.db_path.name == "cbewatch.db"
    assert [t.name for t in settings.topics] == ["Personalized Learning", "Policy"]
    alder, dogwood = settings.sources
    assert alder.kind == "feed" and alder.every == timedelta(minutes=30)
    assert alder.include == ("competency", "mastery")
    assert dogwood.links == "article h2 a" and dogwood.max_pages == 2
    assert settings.network.allow_hosts == ("127.0.0.1:8123",)
    assert settings.newsletter.sender == "news@example.org"
    assert settings.smtp.password_env == "SMTP_PW"


def test_timezone_names_the_zone_the_pages_show_times_in() -> None:
    path = Path("sources.yaml")
    assert parse_config("topics: [Policy]\n", path).zone is None  # the server's own zone
    zone = parse_config("timezone: America/New_York\ntopics: [Policy]\n", path).zone
    assert zone is not None
    winter = datetime(2026, 12, 4, 12, tzinfo=zone).utcoffset()
    assert winter is not None and winter.total_seconds() == -5 * 3600  # EST


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("user_agnet: x\n", "sources.yaml:1: user_agnet: unknown key (did you mean 'user_agent'?)"),
        (
            "timezone: Europe/Pari\n",
            "sources.yaml:1: timezone: unknown time zone 'Europe/Pari' "
            "(did you mean 'Europe/Paris'?)",
        ),
        ("timezon: UTC\n", "sources.yaml:1: timezon: unknown key (did you mean 'timezone'?)"),
        (
            "sources:\n  - name: A\n    url: https://a.org/\n    evry: 1h\n",
            "sources.yaml:4: sources[0].evry: unknown key (did you mean 'every'?)",
        ),
        (
            "sources:\n  - name: A\n    url: https://a.org/\n    every: 6x\n",
            "sources.yaml:4: sources[0].every: '6x' is not a duration like 30m, 6h or 1d",
        ),
        (
            "sources:\n  - name: A\n    url: ftp://a.org/\n",
            "sources.yaml:3: sources[0].url: 'ftp://a.org/' is not an http(s) URL",
        ),
        (
            "sources:\n  - name: A\n    url: https://a.org/\n    kind: rss\n",
            "sources.yaml:4: sources[0].kind: must be one of feed, page, sitemap (got 'rss')",
        ),
        (
            "sources:\n  - name: A\n    url: https://a.org/\n    kind: page\n",
            "sources.yaml:2: sources[0].links: is required for kind: page (a CSS selector)",
        ),
        (
            "sources:\n  - name: A\n    url: https://a.org/\n    kind: page\n    links: 'a[href'\n",
            "sources.yaml:5: sources[0].links: 'a[href' is not a valid CSS selector",
        ),
        (
            "sources:\n  - name: A\n    url: https://a.org/\n  - name: A\n    url: https://b.org/\n",
            "sources.yaml:4: sources[1].name: source 'A' appears twice",
        ),
        (
            "sources:\n  - name: A\n    url: https://a.org/\n    max_pages: many\n",
            "sources.yaml:4: sources[0].max_pages: must be a whole number (got 'many')",
        ),
        ("sources:\n  - url: https://a.org/\n", "sources.yaml:2: sources[0].name: is required"),
        ("topics: Policy\n", "sources.yaml:1: topics: must be a list of topics, each with a name"),
        (
            "network:\n  allow_hosts: [localhost]\n",
            "sources.yaml:2: network.allow_hosts[0]: 'localhost' must be host:port",
        ),
        ("smtp:\n  starttls: maybe\n", "sources.yaml:2: smtp.starttls: must be true or false"),
        ("sources: [\n", "sources.yaml:2: not valid YAML"),
    ],
)
def test_each_problem_names_line_and_key(tmp_path: Path, text: str, expected: str) -> None:
    found = problems(tmp_path, text)
    assert any(p.startswith(expected) for p in found), found


def test_all_problems_are_reported_in_line_order(tmp_path: Path) -> None:
    found = problems(tmp_path, "sources:\n  - name: A\n    url: nope\n    every: soon\nfoo: 1\n")
    assert [p.split(":")[1] for p in found] == ["3", "4", "5"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [("30m", timedelta(minutes=30)), ("6h", timedelta(hours=6)), ("1d", timedelta(days=1))],
)
def test_durations(text: str, expected: timedelta) -> None:
    assert parse_duration(text) == expected


@pytest.mark.parametrize("text", ["", "0h", "6", "h6", "1.5h", "-1d"])
def test_bad_durations(text: str) -> None:
    with pytest.raises(ValueError):
        parse_duration(text)


def test_check_config_exits_2_with_file_line_key(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("sources:\n  - name: A\n    url: https://a.org/\n    kind: rss\n")
    result = CliRunner().invoke(cli, ["--config", str(path), "check-config"])
    assert result.exit_code == 2
    assert f"{path}:4: sources[0].kind: must be one of feed, page, sitemap" in result.output


def test_every_command_refuses_a_bad_config(tmp_path: Path) -> None:
    path = tmp_path / "sources.yaml"
    path.write_text("colour: blue\n")
    for command in (["fetch"], ["sources"], ["items"]):
        result = CliRunner().invoke(cli, ["--config", str(path), *command])
        assert result.exit_code == 2, command
        assert "colour: unknown key" in result.output


def test_missing_config_is_a_plain_sentence(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--config", str(tmp_path / "nope.yaml"), "check-config"])
    assert result.exit_code == 2
    assert "nope.yaml: no such file" in result.output


def test_config_from_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "elsewhere.yaml"
    path.write_text(GOOD)
    monkeypatch.setenv("CBEWATCH_CONFIG", str(path))
    result = CliRunner().invoke(cli, ["check-config"])
    assert result.exit_code == 0, result.output
    assert "2 sources, 2 topics" in result.output

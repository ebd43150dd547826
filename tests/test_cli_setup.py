"""A new user's first day: --version, --debug anywhere, readable help, init, send without [smtp]."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from newsletter import __version__
from newsletter.config import load_config
from tests.clirun import cli
from tests.conftest import FIXTURES, REPO
from tests.factories import without_tables

SECRET = "cli-setup-secret-0123456789"
ORDER = ["collect", "items", "draft", "validate", "build", "check", "preview", "approve",
         "export", "send", "suppress", "run", "init"]  # fmt: skip


def sample(root: Path, *drop: str) -> Path:
    root.mkdir(parents=True)
    shutil.copytree(REPO / "issues", root / "issues")
    text = without_tables((REPO / "newsletter.toml").read_text(), *drop)
    (root / "newsletter.toml").write_text(text)
    return root


def test_version(tmp_path: Path) -> None:
    done = cli("--version", cwd=tmp_path)
    assert done.returncode == 0 and done.stdout.strip() == f"newsletter {__version__}"


def test_debug_works_before_and_after_the_command(tmp_path: Path) -> None:
    project = sample(tmp_path / "p")
    plain = cli("build", "1999-01", cwd=project)
    assert plain.returncode == 2 and "no issue file for 1999-01" in plain.stderr
    assert "Traceback" not in plain.stderr
    for args in (("--debug", "build", "1999-01"), ("build", "1999-01", "--debug")):
        done = cli(*args, cwd=project)
        assert done.returncode != 0 and "Traceback" in done.stderr, done.stderr
        assert "ProjectError" in done.stderr
    nested = cli("suppress", "list", "--debug", cwd=project)
    assert nested.returncode == 0, nested.stderr


def test_help_lists_commands_in_pipeline_order_and_flags_without_a_type(tmp_path: Path) -> None:
    root = cli("--help", cwd=tmp_path)
    assert root.returncode == 0
    listed = re.findall(r"^│ (\w+) ", root.stdout, re.M)
    commands = [name for name in listed if name in ORDER]
    assert commands == ORDER, listed
    for args in (("--help",), ("build", "--help"), ("send", "--help"), ("export", "--help")):
        assert "<bool>" not in cli(*args, cwd=tmp_path).stdout
    # Options that take a value still show what they take.
    assert "<dir>" in cli("build", "--help", cwd=tmp_path).stdout


def test_init_says_what_to_edit_and_writes_a_commented_smtp_table(tmp_path: Path) -> None:
    done = cli("init", "news", cwd=tmp_path)
    assert done.returncode == 0
    assert "[[sources]]" in done.stdout and "[smtp]" in done.stdout
    text = (tmp_path / "news" / "newsletter.toml").read_text()
    assert re.search(r"(?m)^# \[smtp\]$", text) and re.search(r'(?m)^# host = "', text)
    config = load_config(tmp_path / "news" / "newsletter.toml")
    assert "smtp" not in config.model_fields_set  # commented: send says it is missing


def test_send_without_smtp_settings_stops_at_once_with_what_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("HOST", "PORT", "SECURITY", "USERNAME", "PASSWORD", "TIMEOUT"):
        monkeypatch.delenv(f"NEWSLETTER_SMTP_{name}", raising=False)
    project = sample(tmp_path / "p", "smtp", "send")
    with (project / "newsletter.toml").open("a") as fh:
        fh.write("\n[send]\nretry_delay = 60\n")  # a retry would wait a minute: there is none
    done = cli(
        "send", "2020-10", "--audience", str(FIXTURES / "audiences" / "sample.csv"), "--yes",
        cwd=project, env={"NEWSLETTER_SECRET": SECRET},
    )  # fmt: skip
    assert done.returncode != 0
    assert "newsletter.toml has no [smtp] table" in done.stderr, done.stderr
    assert "NEWSLETTER_SMTP_HOST" in done.stderr and "--smtp-host" in done.stderr


def test_a_config_error_reaches_the_user_with_its_line_and_no_value_error(tmp_path: Path) -> None:
    project = sample(tmp_path / "p")
    path = project / "newsletter.toml"
    text = path.read_text().replace('primary_color = "#6b1f57"', 'primary_color = "purple"', 1)
    path.write_text(text)
    done = cli("build", "2020-10", cwd=project)
    line = text.splitlines().index('primary_color = "purple"') + 1
    assert done.returncode == 2
    assert f"line {line}, brand.primary_color: must be a hex colour" in done.stderr
    assert "Value error" not in done.stderr


def test_a_bad_option_value_is_named_without_pydantics_prefix(tmp_path: Path) -> None:
    project = sample(tmp_path / "p")
    for args, said in [
        (("check", "2020-10", "--format", "xml"), "'xml' is not one of 'text', 'json'"),
        (("export", "2020-10", "--to", "nope", "--out", "o"), "'nope' is not one of"),
        (("suppress", "add", "a@example.org", "--reason", "bored"), "'bored' is not one of"),
    ]:
        done = cli(*args, cwd=project, columns=300)
        assert done.returncode == 2 and said in done.stderr, done.stderr
        assert "Value error" not in done.stderr

"""Where the store lives: [database] url or NEWSLETTER_DATABASE_URL; never a password in a file."""

from __future__ import annotations

from pathlib import Path

import pytest

from newsletter.config import load_config
from newsletter.errors import ConfigError, StoreError
from newsletter.project import Project
from newsletter.store.url import DEFAULT_URL, parse, redact, resolve
from tests.conftest import write_project


def with_database(root: Path, url: str) -> Path:
    write_project(root, [])
    config = root / "newsletter.toml"
    config.write_text(config.read_text() + f'\n[database]\nurl = "{url}"\n')
    return root


def test_the_default_is_a_sqlite_file_in_the_project(tmp_path: Path) -> None:
    url = resolve(tmp_path, None, {})
    assert url.backend == "sqlite" and url.path == tmp_path / ".newsletter" / "store.db"
    assert parse(DEFAULT_URL, tmp_path, "x") == url
    assert url.sqlalchemy_url() == f"sqlite:///{tmp_path}/.newsletter/store.db"


def test_the_environment_wins_over_the_config(tmp_path: Path) -> None:
    configured = "sqlite:///data/news.db"
    assert resolve(tmp_path, configured, {}).path == tmp_path / "data" / "news.db"
    env = {"NEWSLETTER_DATABASE_URL": "postgresql://news@db.example.org:5433/newsletter"}
    url = resolve(tmp_path, configured, env)
    assert url.backend == "postgresql" and url.path is None
    assert url.sqlalchemy_url() == "postgresql+psycopg://news@db.example.org:5433/newsletter"
    assert resolve(tmp_path, "sqlite:////var/lib/n.db", {}).path == Path("/var/lib/n.db")


def test_project_reads_database_url_from_its_config(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSLETTER_DATABASE_URL", raising=False)
    root = with_database(tmp_path, "postgres://news@localhost/newsletter")
    database = Project.at(root).database
    assert database.backend == "postgresql"
    assert database.display == "postgres://news@localhost/newsletter"


def test_a_password_in_newsletter_toml_is_refused_with_a_hint(tmp_path: Path) -> None:
    root = with_database(tmp_path, "postgresql://news:s3cret@localhost/newsletter")
    with pytest.raises(ConfigError) as info:
        load_config(root / "newsletter.toml")
    message = str(info.value)
    assert "database.url" in message and "PGPASSWORD" in message and "~/.pgpass" in message
    assert "s3cret" not in message


def test_an_unknown_scheme_is_refused_naming_where_it_came_from(tmp_path: Path) -> None:
    root = with_database(tmp_path, "mysql://news@localhost/newsletter")
    with pytest.raises(ConfigError, match=r"database\.url: .*unknown database URL scheme 'mysql'"):
        load_config(root / "newsletter.toml")
    with pytest.raises(StoreError, match="NEWSLETTER_DATABASE_URL: unknown database URL scheme"):
        resolve(tmp_path, None, {"NEWSLETTER_DATABASE_URL": "mongodb://x/y"})
    with pytest.raises(StoreError, match="unknown database URL scheme none"):
        resolve(tmp_path, None, {"NEWSLETTER_DATABASE_URL": ".newsletter/store.db"})


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("sqlite://", "needs a file path"),
        ("sqlite:///", "needs a file path"),
        ("postgresql://news@localhost", "names no database"),
        ("postgresql://news@localhost:port/n", "malformed database URL"),
    ],
)
def test_malformed_urls(tmp_path: Path, text: str, problem: str) -> None:
    with pytest.raises(StoreError, match=problem):
        parse(text, tmp_path, "here")


def test_a_libpq_service_names_the_database(tmp_path: Path) -> None:
    url = parse("postgresql:///?service=newsletter", tmp_path, "here")
    assert url.sqlalchemy_url() == "postgresql+psycopg:///?service=newsletter"


def test_the_password_never_shows(tmp_path: Path) -> None:
    env = {"NEWSLETTER_DATABASE_URL": "postgresql://news:s3cret@[::1]:5432/newsletter"}
    url = resolve(tmp_path, None, env)
    assert url.display == "postgresql://news@[::1]:5432/newsletter" == str(url)
    assert "s3cret" in url.sqlalchemy_url()  # the environment may hold it; the driver needs it
    assert redact("postgresql://a%40b:p@h/d") == "postgresql://a%40b@h/d"
    assert redact("postgresql://h/d") == "postgresql://h/d"

"""Where the store lives: a database URL, checked and resolved before anything connects.

``[database] url`` in newsletter.toml, or ``NEWSLETTER_DATABASE_URL`` (which wins), or the
default ``sqlite:///.newsletter/store.db``. A relative SQLite path is relative to the project.
A password never comes from newsletter.toml: PostgreSQL takes it from ``PGPASSWORD`` or
libpq's password and service files (``~/.pgpass``, ``~/.pg_service.conf``).

Parsing is plain string work (no SQLAlchemy import): every command reads the config.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit, urlunsplit

from newsletter.errors import StoreError

ENV_VAR = "NEWSLETTER_DATABASE_URL"
DEFAULT_URL = "sqlite:///.newsletter/store.db"
SCHEMES = {
    "sqlite": "sqlite",
    "postgresql": "postgresql",
    "postgres": "postgresql",
    "postgresql+psycopg": "postgresql",
}
EXAMPLES = "sqlite:///.newsletter/store.db or postgresql://USER@HOST:5432/DATABASE"
PASSWORD_HINT = (
    "keep the password out of the URL: set PGPASSWORD in the environment, or put it in "
    "~/.pgpass or a libpq service file (postgresql:///?service=NAME)"
)


@dataclass(frozen=True)
class DatabaseUrl:
    """A checked database URL. ``url`` may hold a password; ``display`` never does."""

    backend: str  # "sqlite" or "postgresql"
    url: str
    path: Path | None = None  # the SQLite file

    @property
    def exists(self) -> bool:
        """False for a SQLite file not created yet (a server database is taken to exist)."""
        return self.path is None or self.path.exists()

    @property
    def display(self) -> str:
        return redact(self.url)

    def sqlalchemy_url(self) -> str:
        """The URL SQLAlchemy takes (the psycopg 3 driver for PostgreSQL)."""
        if self.path is not None:
            return f"sqlite:///{self.path}"
        return "postgresql+psycopg" + self.url[len(scheme_of(self.url)) :]

    def __str__(self) -> str:
        return self.display


def scheme_of(text: str) -> str:
    return text.split(":", 1)[0].lower() if ":" in text else ""


def has_password(text: str) -> bool:
    try:
        return urlsplit(text).password is not None
    except ValueError:
        return False


def redact(text: str) -> str:
    """The URL without its password (a password must never reach a log or a terminal)."""
    try:
        parts = urlsplit(text)
        if parts.password is None:
            return text
        host = parts.hostname or ""
        if ":" in host:
            host = f"[{host}]"
        user = quote(unquote(parts.username or ""), safe="")
        netloc = f"{user}@{host}" if user else host
        if parts.port is not None:
            netloc += f":{parts.port}"
        return urlunsplit(parts._replace(netloc=netloc))
    except ValueError:
        return "<an unreadable URL>"


def check_scheme(text: str, origin: str) -> str:
    """The backend ``text`` names; StoreError for an unknown scheme."""
    scheme = scheme_of(text)
    backend = SCHEMES.get(scheme)
    if backend is None:
        shown = f"{scheme!r}" if scheme else "none"
        raise StoreError(
            f"{origin}: unknown database URL scheme {shown} in {redact(text)!r}",
            hint=f"use {EXAMPLES}",
        )
    return backend


def parse(text: str, root: Path, origin: str) -> DatabaseUrl:
    """Check ``text`` (from ``origin``, for messages) and resolve a SQLite path against ``root``."""
    text = text.strip()
    backend = check_scheme(text, origin)
    if backend == "sqlite":
        prefix = "sqlite:///"
        if not text.startswith(prefix) or text == prefix:
            raise StoreError(
                f"{origin}: a SQLite URL needs a file path, got {text!r}",
                hint="for example sqlite:///.newsletter/store.db (relative to the project) or "
                "sqlite:////var/lib/newsletter/store.db",
            )
        raw = Path(unquote(text[len(prefix) :].split("?", 1)[0]))
        path = raw if raw.is_absolute() else root / raw
        return DatabaseUrl("sqlite", f"sqlite:///{path}", path)
    try:
        parts = urlsplit(text)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError as exc:
        raise StoreError(f"{origin}: malformed database URL {redact(text)!r}: {exc}") from None
    if not parts.path.strip("/") and "service=" not in parts.query and "dbname=" not in parts.query:
        raise StoreError(
            f"{origin}: the URL {redact(text)!r} names no database",
            hint="add it after the host, for example postgresql://USER@HOST:5432/newsletter",
        )
    return DatabaseUrl("postgresql", text)


def resolve(
    root: Path, configured: str | None, environ: Mapping[str, str] | None = None
) -> DatabaseUrl:
    """The project's database: the environment variable, else the config, else the default."""
    env = os.environ if environ is None else environ
    from_env = env.get(ENV_VAR, "").strip()
    if from_env:
        return parse(from_env, root, ENV_VAR)
    if configured:
        if has_password(configured):  # also refused when the config loads; here for callers
            raise StoreError("newsletter.toml: [database] url holds a password", hint=PASSWORD_HINT)
        return parse(configured, root, "newsletter.toml: [database] url")
    return parse(DEFAULT_URL, root, "the default database URL")

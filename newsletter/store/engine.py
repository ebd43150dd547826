"""Connecting to the store: one SQLAlchemy engine per URL, and errors a person can act on.

Each backend (SQLite, PostgreSQL) registers how it connects, how a write transaction begins,
whether its schema upgrades by itself, and what a failure to connect means. Every database
error leaves here as a one-line ``StoreError`` with a hint, never as a driver traceback.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from newsletter.errors import StoreError
from newsletter.store.url import DatabaseUrl

if TYPE_CHECKING:
    from sqlalchemy.engine import Engine

# (a pattern of the driver's message, what it means or "" when the message says it plainly,
# what to do); the first match wins.
Diagnosis = tuple[str, str, str]


@dataclass(frozen=True)
class Backend:
    name: str
    make_engine: Callable[[DatabaseUrl, bool, float], Engine]
    diagnoses: tuple[Diagnosis, ...]
    default_hint: str
    # SQLite upgrades its schema when opened; a shared server waits for `newsletter db upgrade`.
    upgrades_itself: bool
    where: Callable[[DatabaseUrl], str] = field(default=lambda url: url.display)


BACKENDS: dict[str, Backend] = {}


def register(backend: Backend) -> Backend:
    BACKENDS[backend.name] = backend
    return backend


def backend_of(url: DatabaseUrl) -> Backend:
    return BACKENDS[url.backend]


def create_engine(url: DatabaseUrl, *, durable: bool = False, busy_timeout: float = 30.0) -> Engine:
    """An engine for ``url``; ``durable`` makes each SQLite commit wait for the disk, and a
    SQLite writer waits up to ``busy_timeout`` seconds for another one to finish."""
    return backend_of(url).make_engine(url, durable, busy_timeout)


def error(url: DatabaseUrl, doing: str, exc: BaseException) -> StoreError:
    """``exc`` (raised while ``doing``) as a one-line StoreError naming the database."""
    if isinstance(exc, StoreError):
        return exc
    backend = backend_of(url)
    cause = getattr(exc, "orig", None) or exc
    text = " ".join(str(cause).split()) or type(cause).__name__
    lowered = text.lower()
    where = backend.where(url)
    for pattern, meaning, hint in backend.diagnoses:
        if re.search(pattern, lowered):
            said = f"{meaning} ({text})" if meaning else text
            return StoreError(f"{where}: cannot {doing}: {said}", hint=hint)
    return StoreError(f"{where}: cannot {doing}: {text}", hint=backend.default_hint)


# -- SQLite -------------------------------------------------------------------------------------


def _sqlite_engine(url: DatabaseUrl, durable: bool, busy_timeout: float) -> Engine:
    from sqlalchemy import create_engine, event
    from sqlalchemy.pool import QueuePool

    assert url.path is not None
    try:
        url.path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise error(url, "create the store's folder", exc) from exc
    engine = create_engine(
        url.sqlalchemy_url(), poolclass=QueuePool, connect_args={"timeout": busy_timeout}
    )

    @event.listens_for(engine, "connect")
    def _connect(dbapi: Any, _record: Any) -> None:
        dbapi.isolation_level = None  # SQLAlchemy's "begin" below decides, not the driver
        cursor = dbapi.cursor()
        _journal_wal(cursor, busy_timeout)
        cursor.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _begin(conn: Any) -> None:
        # A writer takes the write lock up front (waiting up to the timeout) instead of
        # failing half-way when another process writes too.
        write = conn.get_execution_options().get("write")
        conn.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


def _journal_wal(cursor: Any, busy_timeout: float) -> None:
    """Switch the file to WAL. While another connection creates a new store, SQLite can answer
    "database is locked" at once, without waiting the busy timeout: wait for it here."""
    import sqlite3
    import time

    deadline = time.monotonic() + busy_timeout
    while True:
        try:
            cursor.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)


def _sqlite_where(url: DatabaseUrl) -> str:
    return str(url.path)


register(
    Backend(
        name="sqlite",
        make_engine=_sqlite_engine,
        diagnoses=(
            (
                "locked|busy",
                "",
                "another newsletter command is writing to the store; wait and run it again",
            ),
            ("full", "", "the disk is full: free some space and run the command again"),
            (
                "disk i/o",
                "",
                "the disk reported an error: check it has space and is healthy, then run the "
                "command again",
            ),
            (
                "readonly|read-only",
                "",
                "the store file or its folder is read-only: check the permissions",
            ),
            (
                "not a database|malformed",
                "",
                "move it aside (it also holds the send log) to start a fresh one",
            ),
            (
                "unable to open",
                "",
                "check the folder exists and is writable",
            ),
        ),
        default_hint="check the disk has space and no other program holds the file",
        upgrades_itself=True,
        where=_sqlite_where,
    )
)


# -- PostgreSQL ---------------------------------------------------------------------------------


def _pg_engine(url: DatabaseUrl, durable: bool, busy_timeout: float) -> Engine:
    from sqlalchemy import create_engine

    # Every commit on the server is durable (synchronous_commit is on by default).
    return create_engine(
        url.sqlalchemy_url(),
        pool_size=2,
        max_overflow=2,
        # Times are written and read in UTC whatever the server's own time zone.
        connect_args={
            "connect_timeout": 10,
            "application_name": "newsletter",
            "options": "-c timezone=UTC",
        },
    )


register(
    Backend(
        name="postgresql",
        make_engine=_pg_engine,
        diagnoses=(
            (
                "password authentication failed",
                "wrong user name or password",
                "check the user in the URL and the password in PGPASSWORD, ~/.pgpass or the "
                "libpq service file",
            ),
            (
                "no password supplied|password is required",
                "no password given",
                "set PGPASSWORD in the environment, or put the password in ~/.pgpass or a libpq "
                "service file (never in newsletter.toml)",
            ),
            ('role ".*" does not exist', "no such user", "check the user name in the URL"),
            (
                'database ".*" does not exist',
                "the database does not exist",
                "create it (createdb -h HOST -U USER NAME) or fix its name in the URL",
            ),
            (
                "connection refused|could not translate host name|timeout expired|no route to "
                "host|name or service not known|network is unreachable|connection to server "
                "on socket|could not connect",
                "the server cannot be reached",
                "check the host and port in the URL and that the PostgreSQL server is running",
            ),
            (
                "permission denied",
                "permission denied",
                "grant the user the rights it needs on the database",
            ),
        ),
        default_hint="check the database URL and the server; `newsletter db status` shows it",
        upgrades_itself=False,
    )
)

"""The one way to open the project's store and to write to it: ``Database`` and ``transaction()``.

Every table owner (stories, the send log, the suppression list) is a ``Database``: it owns one
SQLAlchemy engine on the store (a SQLite file, or a PostgreSQL database that a team shares),
checked at the schema version this code knows when it opens (``store/migrate.py``), and it
writes only inside ``with self.transaction():``.

A writer's transaction waits for the right to write up front instead of failing half-way: on
SQLite it starts with ``BEGIN IMMEDIATE`` (waiting up to ``busy_timeout``); on PostgreSQL,
``lock=`` names what it changes and takes that advisory lock, so writers of the same thing
(claims on one issue's send log, story batches) queue up across processes and machines just
as they do on one SQLite file. Any database error becomes a ``StoreError`` that names the
store, what was being done and the real cause (``disk I/O error``, ``database or disk is
full``, ``database is locked``, an unreachable server...); the rollback never hides it.
"""

from __future__ import annotations

import contextlib
import zlib
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self, TypeVar

from newsletter.errors import StoreError
from newsletter.store.engine import create_engine, error
from newsletter.store.migrate import ensure_current
from newsletter.store.url import DatabaseUrl, parse

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

Target = DatabaseUrl | Path | str
T = TypeVar("T")


def database_url(target: Target) -> DatabaseUrl:
    """A path is a SQLite file; a string is a URL (a relative SQLite path: from here)."""
    if isinstance(target, DatabaseUrl):
        return target
    if isinstance(target, Path):
        return DatabaseUrl("sqlite", f"sqlite:///{target}", target)
    return parse(target, Path.cwd(), "the database URL")


def lock_key(name: str) -> int:
    """A stable 63-bit advisory lock key for ``name`` (same on every machine)."""
    return zlib.crc32(b"newsletter:" + name.encode()) | (0x6E6C << 32)


class Database:
    """One engine on the store, its schema checked, and its transactions.

    ``durable`` (the send log, the suppression list) syncs every SQLite commit to disk
    (``synchronous=FULL``), so a row written before a crash or a power cut is really there;
    the others sync less often. A PostgreSQL commit is always durable on the server.
    """

    def __init__(
        self,
        target: Target,
        *,
        durable: bool = False,
        busy_timeout: float = 30.0,
        what: str = "the store",
    ) -> None:
        self.url = database_url(target)
        self.path = self.url.path
        self.what = what
        self.engine = create_engine(self.url, durable=durable, busy_timeout=busy_timeout)
        try:
            ensure_current(self.url, self.engine, doing=f"open {what}")
        except BaseException:
            self.engine.dispose()
            raise

    @property
    def backend(self) -> str:
        return self.url.backend

    @contextlib.contextmanager
    def transaction(
        self, doing: str = "write to the store", *, lock: str | None = None
    ) -> Iterator[Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        ``doing`` completes the error message ("cannot record the outcome: disk I/O error");
        ``lock`` serializes writers of that name on PostgreSQL (SQLite has one writer anyway).
        """
        try:
            conn = self.engine.connect().execution_options(write=True)
        except Exception as exc:
            raise self.error(doing, exc) from _cause(exc)
        try:
            with conn:
                try:
                    tx = conn.begin()
                except Exception as exc:
                    raise self.error(doing, exc) from _cause(exc)
                with tx:
                    if lock is not None and conn.dialect.name == "postgresql":
                        from sqlalchemy import text

                        conn.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": lock_key(lock)}
                        )
                    yield conn
        except StoreError:
            raise
        except Exception as exc:
            if _is_database_error(exc):
                raise self.error(doing, exc) from _cause(exc)
            raise

    @contextlib.contextmanager
    def read(self, doing: str = "read the store") -> Iterator[Connection]:
        """A connection for reading; its transaction ends with the block (no stale snapshot)."""
        try:
            with self.engine.connect() as conn:
                yield conn
        except StoreError:
            raise
        except Exception as exc:
            if _is_database_error(exc):
                raise self.error(doing, exc) from _cause(exc)
            raise

    def error(self, doing: str, exc: BaseException) -> StoreError:
        return error(self.url, doing, exc)

    def close(self) -> None:
        self.engine.dispose()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def check_store(target: Target) -> None:
    """Stop now (a StoreError) unless the store can be reached and is at the current schema
    (a SQLite store is upgraded): for a long-running command, before it starts serving."""
    Database(target, what="the store").close()


def insert(conn: Connection, table: Table) -> Any:
    """The dialect's INSERT, which has ``on_conflict_do_nothing`` and ``on_conflict_do_update``
    (SQLite and PostgreSQL spell "insert or ignore" and "upsert" the same way there)."""
    return dialect_insert(conn.dialect.name, table)


def dialect_insert(dialect: str, table: Table) -> Any:
    """``insert`` by the dialect's name, for statements built once and reused."""
    if dialect == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as pg_insert

        return pg_insert(table)
    from sqlalchemy.dialects.sqlite import insert as sqlite_insert

    return sqlite_insert(table)


def chunks(values: Sequence[T], size: int = 500) -> Iterator[Sequence[T]]:
    """``values`` in slices that keep an ``IN (...)`` list within every backend's limits."""
    for start in range(0, len(values), size):
        yield values[start : start + size]


def _is_database_error(exc: BaseException) -> bool:
    from sqlalchemy.exc import DBAPIError, SQLAlchemyError

    return isinstance(exc, DBAPIError | SQLAlchemyError)


def _cause(exc: BaseException) -> BaseException:
    """The driver's own exception, when SQLAlchemy wrapped one."""
    orig = getattr(exc, "orig", None)
    return orig if isinstance(orig, BaseException) else exc

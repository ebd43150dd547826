"""Schema versions: which revision a store is at, bringing it to ``HEAD``, refusing a mismatch.

Opening a store reads its revision with one query. A SQLite store is upgraded there and then;
a PostgreSQL one is shared, so it waits for an explicit ``newsletter db upgrade`` and every
other command stops with a message until then. A store newer than this version of newsletter
is never touched. Alembic itself is imported only to upgrade or to explain a mismatch.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from newsletter.errors import StoreError
from newsletter.store.engine import backend_of, error
from newsletter.store.schema import HEAD, TABLES
from newsletter.store.url import DatabaseUrl

if TYPE_CHECKING:
    from alembic.config import Config
    from sqlalchemy.engine import Connection, Engine

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
VERSION_TABLE = "alembic_version"
# One upgrade at a time on a shared server (pg_advisory_xact_lock's key: "newsletter").
LOCK_KEY = 0x6E6577736C6574
# Alembic keeps its migration context in module globals: one run per process at a time.
_ALEMBIC = threading.Lock()


@dataclass(frozen=True)
class SchemaState:
    current: str | None  # None: never versioned (an empty database, or an older SQLite store)
    tables: frozenset[str]  # the store's tables that exist
    head: str = HEAD

    @property
    def up_to_date(self) -> bool:
        return self.current == self.head

    @property
    def empty(self) -> bool:
        return self.current is None and not self.tables

    def describe(self) -> str:
        if self.up_to_date:
            return f"{self.current} (up to date)"
        if self.current is None:
            return "none (no tables yet)" if self.empty else "none (written before versions)"
        if self.current in revisions():
            return f"{self.current} (behind: this version of newsletter needs {self.head})"
        return f"{self.current} (ahead: newer than this version of newsletter, {self.head})"


def read_state(conn: Connection) -> SchemaState:
    from sqlalchemy import inspect, text

    names = set(inspect(conn).get_table_names())
    current = None
    if VERSION_TABLE in names:
        current = conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).scalar()
    return SchemaState(current, frozenset(names & {t.name for t in TABLES}))


def revisions() -> set[str]:
    """Every revision this version of newsletter ships."""
    from alembic.script import ScriptDirectory

    return {s.revision for s in ScriptDirectory.from_config(_config()).walk_revisions()}


def shipped_head() -> str:
    from alembic.script import ScriptDirectory

    head = ScriptDirectory.from_config(_config()).get_current_head()
    assert head is not None
    return head


def _config(conn: Connection | None = None) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def mismatch(url: DatabaseUrl, state: SchemaState) -> StoreError:
    where = backend_of(url).where(url)
    if state.current is not None and state.current not in revisions():
        return StoreError(
            f"{where}: the database schema is at revision {state.current}, newer than this "
            f"version of newsletter knows (it needs {state.head})",
            hint="upgrade newsletter to the version that upgraded the database "
            "(pip install -U newsletter)",
        )
    at = "has no newsletter tables yet" if state.empty else (
        f"is at revision {state.current or 'none'}"
    )  # fmt: skip
    return StoreError(
        f"{where}: the database schema {at}; this version of newsletter needs {state.head}",
        hint="run `newsletter db upgrade` (once, for everyone who shares the database)",
    )


def ensure_current(url: DatabaseUrl, engine: Engine, *, doing: str = "open the store") -> None:
    """Stop unless the schema is at HEAD; a store that upgrades itself is upgraded first."""
    from sqlalchemy import text
    from sqlalchemy.exc import ProgrammingError

    try:
        with engine.connect() as conn:
            try:  # the usual case, in one query: a store at HEAD
                query = text(f"SELECT version_num FROM {VERSION_TABLE}")
                if conn.execute(query).scalar() == HEAD:
                    return
            except (ProgrammingError, _no_table_error()):
                conn.rollback()  # no version table yet; PostgreSQL needs the failure ended
            state = read_state(conn)
    except StoreError:
        raise
    except Exception as exc:
        raise error(url, doing, exc) from getattr(exc, "orig", None) or exc
    if state.up_to_date:
        return
    if backend_of(url).upgrades_itself and (state.current is None or state.current in revisions()):
        upgrade(url, engine)
        return
    raise mismatch(url, state)


def _no_table_error() -> type[Exception]:
    from sqlalchemy.exc import OperationalError

    return OperationalError  # SQLite's "no such table"


def upgrade(url: DatabaseUrl, engine: Engine) -> tuple[SchemaState, SchemaState]:
    """Bring the schema to HEAD in one transaction; returns the states before and after."""
    try:
        with engine.connect().execution_options(write=True) as conn, conn.begin():
            return upgrade_in(url, conn)
    except StoreError:
        raise
    except Exception as exc:
        raise error(url, "upgrade the database schema", exc) from exc


def upgrade_in(url: DatabaseUrl, conn: Connection) -> tuple[SchemaState, SchemaState]:
    """Upgrade inside the caller's transaction (its changes and the upgrade commit together).

    The transaction holds a lock (SQLite's write lock, a PostgreSQL advisory lock) for its
    whole length, and the revision is read under it: of two processes upgrading at once, the
    second finds the work done.
    """
    from alembic import command
    from sqlalchemy import text

    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": LOCK_KEY})
    before = read_state(conn)
    if before.current is not None and before.current not in revisions():
        raise mismatch(url, before)
    if not before.up_to_date:
        with _ALEMBIC:
            command.upgrade(_config(conn), "head")
    return before, read_state(conn)

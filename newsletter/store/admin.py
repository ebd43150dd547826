"""What ``newsletter db`` does: report on the store, upgrade it, copy it to another database.

A copy moves every table (stories, HTTP validators, the send log, the suppression list) into
an empty database of either backend, in one transaction on the target: it is whole or it is
not there at all. The source is only read.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from newsletter.errors import StoreError
from newsletter.store.engine import backend_of, create_engine, error
from newsletter.store.migrate import SchemaState, ensure_current, read_state, upgrade_in
from newsletter.store.migrate import upgrade as _upgrade
from newsletter.store.schema import TABLES
from newsletter.store.url import DatabaseUrl

if TYPE_CHECKING:
    from sqlalchemy import Table
    from sqlalchemy.engine import Connection

CHUNK = 5000  # rows read and written at a time


@dataclass
class Status:
    url: DatabaseUrl
    exists: bool  # False: a SQLite file not created yet
    state: SchemaState | None = None
    counts: dict[str, int] = field(default_factory=dict)


def status(url: DatabaseUrl) -> Status:
    """The schema revision and the row count of every table; changes nothing."""
    from sqlalchemy import func, select

    if url.path is not None and not url.path.exists():
        return Status(url, exists=False)
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            state = read_state(conn)
            counts = {
                t.name: int(conn.execute(select(func.count()).select_from(t)).scalar_one())
                for t in TABLES
                if t.name in state.tables
            }
    except Exception as exc:
        raise error(url, "read the database", exc) from exc
    finally:
        engine.dispose()
    return Status(url, exists=True, state=state, counts=counts)


def upgrade(url: DatabaseUrl) -> tuple[SchemaState, SchemaState]:
    engine = create_engine(url)
    try:
        return _upgrade(url, engine)
    finally:
        engine.dispose()


def copy(
    source: DatabaseUrl,
    target: DatabaseUrl,
    progress: Callable[[str, int], None] | None = None,
) -> dict[str, int]:
    """Copy every table of ``source`` into the empty database ``target``; rows per table."""
    from sqlalchemy import func, insert, select

    if source.sqlalchemy_url() == target.sqlalchemy_url():
        raise StoreError(
            f"{target.display}: is the project's own database",
            hint="copy --to another database",
        )
    created = target.path is not None and not target.path.exists()
    source_engine = create_engine(source)
    target_engine = create_engine(target, durable=True)
    copied: dict[str, int] = {}
    try:
        ensure_current(source, source_engine)  # a SQLite source is brought up to date first
        with (
            source_engine.connect() as src,
            target_engine.connect().execution_options(write=True) as dst,
            dst.begin(),
        ):
            upgrade_in(target, dst)  # rolled back with the rest if anything fails
            for table in TABLES:
                held = dst.execute(select(func.count()).select_from(table)).scalar_one()
                if held:
                    raise StoreError(
                        f"{backend_of(target).where(target)}: not empty ({table.name} holds "
                        f"{held} rows); nothing was copied",
                        hint="copy into a new, empty database",
                    )
            for table in TABLES:
                copied[table.name] = 0
                rows = src.execution_options(yield_per=CHUNK).execute(select(table))
                for part in rows.partitions(CHUNK):
                    dst.execute(insert(table), [dict(r._mapping) for r in part])
                    copied[table.name] += len(part)
                    if progress is not None:
                        progress(table.name, copied[table.name])
                _continue_sequence(dst, table)
    except BaseException as exc:
        target_engine.dispose()
        if created and target.path is not None:
            for suffix in ("", "-wal", "-shm", "-journal"):  # nothing written, not even a file
                target.path.with_name(target.path.name + suffix).unlink(missing_ok=True)
        if isinstance(exc, StoreError):
            raise
        if isinstance(exc, Exception):
            raise error(target, "copy the store", exc) from exc
        raise
    finally:
        source_engine.dispose()
        target_engine.dispose()
    return copied


def _continue_sequence(conn: Connection, table: Table) -> None:
    """After copying rows with their ids, a PostgreSQL sequence continues after the largest."""
    from sqlalchemy import text

    if conn.dialect.name != "postgresql":
        return
    for column in table.primary_key.columns:
        if column.autoincrement is True:
            conn.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{table.name}', '{column.name}'), "
                    f"COALESCE(MAX({column.name}), 1), MAX({column.name}) IS NOT NULL) "
                    f"FROM {table.name}"
                )
            )

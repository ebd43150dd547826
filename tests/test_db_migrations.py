"""Schema versions on both backends: migrations make the defined tables, SQLite upgrades by
itself, PostgreSQL waits for `newsletter db upgrade`, and a newer schema is never touched."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy import text

from newsletter.errors import StoreError
from newsletter.store import migrate
from newsletter.store.engine import create_engine
from newsletter.store.schema import HEAD, TABLES, metadata
from newsletter.store.url import DatabaseUrl, parse
from tests.pgserver import Backend

# The store's tables as older versions wrote them (before migrations), kept here verbatim.
LEGACY_SCHEMA = """
CREATE TABLE items (id TEXT PRIMARY KEY, source TEXT NOT NULL, url TEXT NOT NULL,
    published TEXT NOT NULL, content TEXT NOT NULL, data TEXT NOT NULL,
    first_seen TEXT NOT NULL, last_seen TEXT NOT NULL);
CREATE INDEX items_published ON items (published);
CREATE TABLE source_state (name TEXT PRIMARY KEY, etag TEXT, last_modified TEXT,
    last_status TEXT, last_fetched TEXT);
CREATE TABLE item_keys (key TEXT PRIMARY KEY, item_id TEXT NOT NULL);
CREATE TABLE send_log (issue TEXT NOT NULL, recipient TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('sending', 'sent', 'failed', 'deferred')),
    via TEXT NOT NULL, message_id TEXT, attempts INTEGER NOT NULL DEFAULT 0, detail TEXT,
    updated TEXT NOT NULL, PRIMARY KEY (issue, recipient));
INSERT INTO items VALUES ('a', 'S', 'https://x.org/a', '2020-10-01T00:00:00+00:00', 'h', '{}',
    '2020-10-02T00:00:00+00:00', '2020-10-02T00:00:00+00:00');
INSERT INTO send_log VALUES ('2020-10', 'ann@example.org', 'sent', 'smtp', '<1@x>', 1, '250',
    '2020-10-02T00:00:00+00:00');
"""


def url_of(backend: Backend) -> DatabaseUrl:
    return parse(backend.url, Path("/"), "test")


def version(backend: Backend) -> str | None:
    engine = create_engine(url_of(backend))
    try:
        with engine.connect() as conn:
            return migrate.read_state(conn).current
    finally:
        engine.dispose()


def test_head_is_the_newest_shipped_migration() -> None:
    assert migrate.shipped_head() == HEAD
    assert migrate.revisions() >= {HEAD}


def test_migrations_make_exactly_the_tables_the_store_defines(empty_backend: Backend) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    url = url_of(empty_backend)
    engine = create_engine(url)
    before, after = migrate.upgrade(url, engine)
    assert (before.current, after.current) == (None, HEAD)
    assert after.tables == {t.name for t in TABLES}
    with engine.connect() as conn:
        assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    assert migrate.upgrade(url, engine)[0].up_to_date  # a second upgrade has nothing to do
    engine.dispose()


def test_a_sqlite_store_from_before_versions_is_adopted_with_its_rows(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with sqlite3.connect(path) as db:
        db.executescript(LEGACY_SCHEMA)
    db.close()
    url = parse(f"sqlite:///{path}", tmp_path, "test")
    engine = create_engine(url)
    migrate.ensure_current(url, engine)  # SQLite upgrades by itself
    with engine.connect() as conn:
        assert migrate.read_state(conn).up_to_date
        assert conn.execute(text("SELECT id FROM items")).all() == [("a",)]
        assert conn.execute(text("SELECT status FROM send_log")).all() == [("sent",)]
        assert conn.execute(text("SELECT COUNT(*) FROM suppressions")).scalar() == 0
    engine.dispose()


@pytest.mark.postgresql
def test_postgresql_waits_for_an_explicit_upgrade(pg_backend: Backend) -> None:
    url = url_of(pg_backend)
    engine = create_engine(url)
    with pytest.raises(StoreError) as info:
        migrate.ensure_current(url, engine)
    assert "has no newsletter tables yet" in info.value.message
    assert info.value.hint is not None and "newsletter db upgrade" in info.value.hint
    assert version(pg_backend) is None  # nothing was written
    migrate.upgrade(url, engine)
    migrate.ensure_current(url, engine)
    engine.dispose()


def test_a_schema_newer_than_this_version_is_refused_and_left_alone(
    empty_backend: Backend,
) -> None:
    url = url_of(empty_backend)
    engine = create_engine(url)
    migrate.upgrade(url, engine)
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    for attempt in (migrate.ensure_current, migrate.upgrade):
        with pytest.raises(StoreError, match="revision 9999, newer than this version") as info:
            attempt(url, engine)
        assert info.value.hint is not None and "upgrade newsletter" in info.value.hint
    assert version(empty_backend) == "9999"
    engine.dispose()


def test_two_upgrades_at_once_do_the_work_once(empty_backend: Backend) -> None:
    url = url_of(empty_backend)
    results: list[tuple[str | None, str | None]] = []
    errors: list[BaseException] = []
    start = threading.Barrier(2)

    def upgrade() -> None:
        engine = create_engine(url)
        try:
            start.wait()
            before, after = migrate.upgrade(url, engine)
            results.append((before.current, after.current))
        except BaseException as exc:
            errors.append(exc)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=upgrade) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert sorted(results, key=str) == sorted([(None, HEAD), (HEAD, HEAD)], key=str)

"""store/db.py on SQLite and PostgreSQL: one transaction helper, and errors that say what failed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from newsletter.errors import StoreError
from newsletter.store.db import Database
from newsletter.store.suppression import SuppressionList
from tests.pgserver import Backend

META = "SELECT key FROM store_meta ORDER BY key"


def keys(db: Database) -> list[str]:
    with db.read() as conn:
        return [k for (k,) in conn.execute(text(META))]


def test_a_transaction_commits_at_the_end_and_rolls_back_on_an_error(backend: Backend) -> None:
    add = text("INSERT INTO store_meta VALUES (:k, 'v')")
    with Database(backend.url) as db, Database(backend.url) as other:
        with db.transaction() as tx:
            tx.execute(add, {"k": "a"})
            assert keys(other) == []  # not visible to another connection before the commit
        assert keys(other) == ["a"]
        with pytest.raises(ZeroDivisionError), db.transaction() as tx:
            tx.execute(add, {"k": "b"})
            _ = 1 / 0
        assert keys(other) == ["a"]
        unique = "cannot add things: .*(UNIQUE constraint failed|duplicate key)"
        with pytest.raises(StoreError, match=unique), db.transaction("add things") as tx:
            tx.execute(add, {"k": "c"})
            tx.execute(add, {"k": "a"})
        assert keys(other) == ["a"]
        with db.transaction() as tx:  # the store is still usable afterwards
            tx.execute(add, {"k": "d"})
        assert keys(other) == ["a", "d"]


def test_a_full_disk_is_reported_as_such_not_as_a_failed_rollback(tmp_path: Path) -> None:
    # SQLite rolls the transaction back by itself on a full disk; a hand-written ROLLBACK
    # then failed with "cannot rollback - no transaction is active", hiding the cause.
    path = tmp_path / "store.db"
    with Database(path, what="the test table") as db:
        with db.engine.connect() as conn:  # the one pooled connection: the file may not grow
            pages = conn.exec_driver_sql("PRAGMA page_count").scalar()
            conn.exec_driver_sql(f"PRAGMA max_page_count = {pages}")
        with pytest.raises(StoreError) as info, db.transaction("write the rows") as tx:
            tx.execute(text("INSERT INTO store_meta VALUES ('x', :v)"), {"v": "x" * 100_000})
        error = info.value
        assert error.message == f"{path}: cannot write the rows: database or disk is full"
        assert error.hint and "disk is full" in error.hint
        assert "rollback" not in str(error)
        assert isinstance(error.__cause__, sqlite3.OperationalError)
        with db.transaction() as tx:  # the connection is still usable afterwards
            tx.execute(text("INSERT INTO store_meta VALUES ('small', 'v')"))


def test_a_locked_store_says_another_command_is_writing(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with Database(path) as holder, Database(path, busy_timeout=0.05) as db:
        locked = "cannot claim: database is locked"
        with (
            holder.transaction(),
            pytest.raises(StoreError, match=locked) as info,
            db.transaction("claim"),
        ):
            pass
        assert info.value.hint and "another newsletter command" in info.value.hint


def test_a_file_that_is_not_a_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    path.write_bytes(b"this is not an SQLite database at all, just some text" * 100)
    with pytest.raises(StoreError) as info:
        SuppressionList(path)
    assert info.value.message.startswith(f"{path}: cannot open the suppression list: ")
    assert info.value.hint and "move it aside" in info.value.hint


def test_removing_suppressions_is_one_transaction(backend: Backend) -> None:
    with SuppressionList(backend.url) as suppressions:
        result = suppressions.add([(1, "a@example.org"), (2, "B@example.org")], "manual")
        assert result.added == 2
        assert suppressions.remove(["b@example.org", "A@example.org ", "c@example.org"]) == 2
        assert suppressions.emails() == frozenset()


def test_an_insert_that_finds_its_row_says_so(backend: Backend) -> None:
    """Replays and duplicates are told apart by the insert itself, on both backends (psycopg
    gives no row count for INSERT ... ON CONFLICT DO NOTHING: every replay used to look new)."""
    from datetime import UTC, datetime

    from newsletter.store.events import Event, EventLog, Kind
    from newsletter.store.schema import webhook_nonces
    from newsletter.store.subscribers import insert_ignore

    now = datetime(2020, 10, 5, tzinfo=UTC)
    with Database(backend.url) as db:
        log = EventLog(db.engine)
        assert log.first_use("mailgun", "token-1", now=now)
        assert not log.first_use("mailgun", "token-1", now=now), "a replayed token"
        assert log.first_use("mailgun", "token-2", now=now)
        bounce = Event("mailbox", "<m1>:a@example.org", Kind.bounce, "a@example.org", now, {})
        assert len(log.record([bounce], now=now).new) == 1
        again = log.record([bounce], now=now)
        assert (again.new, again.duplicates) == ([], 1)
        other = Event("mailbox", "<m2>:b@example.org", Kind.bounce, "b@example.org", now, {})
        mixed = log.record([other, bounce, other], now=now)  # one new, seen twice in the batch
        assert (mixed.new, mixed.duplicates) == ([other], 2)
        with db.transaction() as conn:
            row = {"provider": "x", "nonce": "n", "seen_at": "2020-10-05"}
            assert insert_ignore(conn, webhook_nonces, row) is True
            assert insert_ignore(conn, webhook_nonces, row) is False

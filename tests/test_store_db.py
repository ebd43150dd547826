"""store/db.py on real SQLite files: one transaction helper, and errors that say what failed."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from newsletter.errors import StoreError
from newsletter.store.db import Database
from newsletter.store.suppression import SuppressionList

SCHEMA = "CREATE TABLE IF NOT EXISTS t (x TEXT PRIMARY KEY);"


def test_a_transaction_commits_at_the_end_and_rolls_back_on_an_error(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with Database(path, SCHEMA) as db, Database(path, SCHEMA) as other:
        with db.transaction() as tx:
            tx.execute("INSERT INTO t VALUES ('a')")
            # not visible to another connection before the commit
            assert other.db.execute("SELECT COUNT(*) FROM t").fetchone() == (0,)
        assert other.db.execute("SELECT x FROM t").fetchall() == [("a",)]
        with pytest.raises(ZeroDivisionError), db.transaction() as tx:
            tx.execute("INSERT INTO t VALUES ('b')")
            _ = 1 / 0
        assert not db.db.in_transaction
        assert other.db.execute("SELECT x FROM t").fetchall() == [("a",)]
        unique = "cannot add things: UNIQUE constraint failed"
        with pytest.raises(StoreError, match=unique), db.transaction("add things") as tx:
            tx.execute("INSERT INTO t VALUES ('c')")
            tx.execute("INSERT INTO t VALUES ('a')")
        assert other.db.execute("SELECT x FROM t").fetchall() == [("a",)]


def test_a_full_disk_is_reported_as_such_not_as_a_failed_rollback(tmp_path: Path) -> None:
    # SQLite rolls the transaction back by itself on a full disk; the old hand-written
    # ROLLBACK then failed with "cannot rollback - no transaction is active", hiding the cause.
    path = tmp_path / "store.db"
    with Database(path, SCHEMA, what="the test table") as db:
        pages = db.db.execute("PRAGMA page_count").fetchone()[0]
        db.db.execute(f"PRAGMA max_page_count = {pages}")  # the file may not grow: a full disk
        with pytest.raises(StoreError) as info, db.transaction("write the rows") as tx:
            tx.execute("INSERT INTO t VALUES (?)", ("x" * 100_000,))
        error = info.value
        assert error.message == f"{path}: cannot write the rows: database or disk is full"
        assert error.hint and "disk is full" in error.hint
        assert "rollback" not in str(error)
        assert isinstance(error.__cause__, sqlite3.OperationalError)
        assert not db.db.in_transaction
        with db.transaction() as tx:  # the connection is still usable afterwards
            tx.execute("INSERT INTO t VALUES ('small')")


def test_a_locked_store_says_another_command_is_writing(tmp_path: Path) -> None:
    path = tmp_path / "store.db"
    with Database(path, SCHEMA) as holder, Database(path, SCHEMA, busy_timeout=0.05) as db:
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


def test_removing_suppressions_is_one_transaction(tmp_path: Path) -> None:
    with SuppressionList(tmp_path / "store.db") as suppressions:
        result = suppressions.add([(1, "a@example.org"), (2, "B@example.org")], "manual")
        assert result.added == 2
        assert suppressions.remove(["b@example.org", "A@example.org ", "c@example.org"]) == 2
        assert suppressions.emails() == frozenset()

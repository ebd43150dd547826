"""The one way to open the project's store and to write to it: ``Database`` and ``transaction()``.

Every table owner (stories, the send log, the suppression list) is a ``Database``: it owns one
connection to ``.newsletter/store.db`` and writes only inside ``with self.transaction():``.
On SQLite a writer's transaction starts with ``BEGIN IMMEDIATE``, so it waits for the write
lock up front (up to ``busy_timeout``) instead of failing half-way. Any SQLite error becomes a
``StoreError`` that names the file, what was being done and the real cause (``disk I/O
error``, ``database or disk is full``, ``database is locked``...): SQLite rolls a transaction
back by itself after such errors, so the rollback here is attempted only when one is still
open and can never hide the original error.
"""

from __future__ import annotations

import contextlib
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Self

from newsletter.errors import StoreError

_HINTS = {
    "locked": "another newsletter command is writing to the store; wait and run it again",
    "full": "the disk is full: free some space and run the command again",
    "disk i/o": "the disk reported an error: check it has space and is healthy, then run "
    "the command again",
    "readonly": "the store file or its folder is read-only: check the permissions",
    "not a database": "the file is not a newsletter store; move it aside (it also holds the "
    "send log) to start a fresh one",
}
_DEFAULT_HINT = "check the disk has space and no other program holds the file"


def store_error(path: Path, doing: str, exc: BaseException) -> StoreError:
    """A StoreError for ``exc`` raised while ``doing`` something with the store at ``path``."""
    text = str(exc) or type(exc).__name__
    lowered = text.lower()
    hint = next((h for key, h in _HINTS.items() if key in lowered), _DEFAULT_HINT)
    return StoreError(f"{path}: cannot {doing}: {text}", hint=hint)


class Database:
    """One connection to the store file, with ``schema`` created, and its transactions.

    ``durable`` (the send log) syncs every commit to disk (``synchronous=FULL``), so a row
    written before a crash or a power cut is really there; the others sync less often.
    """

    db: sqlite3.Connection

    def __init__(
        self,
        path: Path,
        schema: str,
        *,
        durable: bool = False,
        busy_timeout: float = 30.0,
        what: str = "the store",
    ) -> None:
        self.path = path
        self.what = what
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None, timeout=busy_timeout)
        except (OSError, sqlite3.Error) as exc:
            raise store_error(path, f"open {what}", exc) from exc
        try:
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute(f"PRAGMA synchronous={'FULL' if durable else 'NORMAL'}")
            self.db.executescript(schema)
            self.migrate()
        except BaseException as exc:
            self.db.close()
            if isinstance(exc, sqlite3.Error):
                raise store_error(path, f"open {what}", exc) from exc
            raise

    def migrate(self) -> None:
        """Bring tables written by an older version up to date (after ``schema`` ran)."""

    @contextlib.contextmanager
    def transaction(self, doing: str = "write to the store") -> Iterator[sqlite3.Connection]:
        """One write transaction: committed when the block ends, rolled back if it raises.

        ``doing`` completes the error message ("cannot record the outcome: disk I/O error").
        """
        try:
            self.db.execute("BEGIN IMMEDIATE")
        except sqlite3.Error as exc:
            raise store_error(self.path, doing, exc) from exc
        try:
            yield self.db
            self.db.execute("COMMIT")
        except BaseException as exc:
            if self.db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    self.db.execute("ROLLBACK")
            if isinstance(exc, sqlite3.Error):
                raise store_error(self.path, doing, exc) from exc
            raise

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

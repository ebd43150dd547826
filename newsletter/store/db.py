"""What every table owner over the project's SQLite file shares: closing, ``with`` support."""

from __future__ import annotations

import sqlite3
from typing import Self


class Database:
    """A holder of one sqlite3 connection, usable as a context manager that closes it."""

    db: sqlite3.Connection

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

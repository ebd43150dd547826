"""The SQLite store of collected items.

One file per project (``.newsletter/store.db``). Items are upserted by id, so collecting
twice never stores anything twice, and each source's batch is written in one transaction:
a source that fails half-way leaves what was stored before untouched.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from newsletter.errors import StoreError
from newsletter.models import NewsItem

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,
    url         TEXT NOT NULL,
    published   TEXT NOT NULL,          -- ISO 8601 in UTC, so text order is time order
    content     TEXT NOT NULL,          -- hash of the record, to tell updated from unchanged
    data        TEXT NOT NULL,          -- the NewsItem as JSON
    first_seen  TEXT NOT NULL,
    last_seen   TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS items_published ON items (published);
CREATE INDEX IF NOT EXISTS items_source ON items (source);
CREATE INDEX IF NOT EXISTS items_url ON items (url);
CREATE TABLE IF NOT EXISTS source_state (
    name           TEXT PRIMARY KEY,
    etag           TEXT,
    last_modified  TEXT,
    last_status    TEXT,
    last_fetched   TEXT
);
"""


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0


@dataclass
class SourceState:
    name: str
    etag: str | None = None
    last_modified: str | None = None
    last_status: str | None = None
    last_fetched: str | None = None


def _utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def _content_key(item: NewsItem) -> str:
    import hashlib

    payload = item.model_dump_json(exclude={"sources"})
    return hashlib.sha256(payload.encode()).hexdigest()[:16]


class Store:
    def __init__(self, path: Path) -> None:
        self.path = path
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(path, isolation_level=None)
            self.db.execute("PRAGMA journal_mode=WAL")
            self.db.execute("PRAGMA synchronous=NORMAL")
            self.db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(
                f"{path}: cannot open the store: {exc}",
                hint="check the folder is writable; delete the file to start a fresh store",
            ) from exc

    def close(self) -> None:
        self.db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def upsert(self, items: Iterable[NewsItem]) -> UpsertResult:
        """Insert or update items by id, all in one transaction."""
        result = UpsertResult()
        now = _now()
        try:
            self.db.execute("BEGIN IMMEDIATE")
            for item in items:
                if item.source not in item.sources:
                    item = item.model_copy(update={"sources": sorted({*item.sources, item.source})})
                key = _content_key(item)
                row = self.db.execute(
                    "SELECT content, data FROM items WHERE id = ?", (item.id,)
                ).fetchone()
                if row is None:
                    self.db.execute(
                        "INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        (item.id, item.source, item.url, _utc_iso(item.published), key,
                         item.model_dump_json(), now, now),
                    )  # fmt: skip
                    result.new += 1
                    continue
                old_sources = json.loads(row[1]).get("sources", [])
                merged = sorted({*old_sources, *item.sources})
                if row[0] == key and merged == sorted(old_sources):
                    self.db.execute("UPDATE items SET last_seen = ? WHERE id = ?", (now, item.id))
                    result.unchanged += 1
                    continue
                item = item.model_copy(update={"sources": merged})
                self.db.execute(
                    "UPDATE items SET source = ?, url = ?, published = ?, content = ?, data = ?,"
                    " last_seen = ? WHERE id = ?",
                    (item.source, item.url, _utc_iso(item.published), key,
                     item.model_dump_json(), now, item.id),
                )  # fmt: skip
                result.updated += 1
            self.db.execute("COMMIT")
        except BaseException:
            self.db.execute("ROLLBACK")
            raise
        return result

    def items(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        source: str | None = None,
        search: str | None = None,
    ) -> list[NewsItem]:
        """Stored items, newest first, optionally within [start, end), by source or text."""
        return list(self.iter_items(start=start, end=end, source=source, search=search))

    def iter_items(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        source: str | None = None,
        search: str | None = None,
    ) -> Iterator[NewsItem]:
        clauses, params = [], []
        if start is not None:
            clauses.append("published >= ?")
            params.append(_utc_iso(start))
        if end is not None:
            clauses.append("published < ?")
            params.append(_utc_iso(end))
        if source is not None:
            clauses.append("source = ?")
            params.append(source)
        if search:
            clauses.append("data LIKE ?")
            params.append(f"%{search}%")
        where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
        sql = f"SELECT id, data FROM items {where} ORDER BY published DESC, id"
        for item_id, data in self.db.execute(sql, params):
            try:
                yield NewsItem.model_validate_json(data)
            except ValidationError as exc:
                raise StoreError(
                    f"{self.path}: stored item {item_id} no longer validates: {exc}",
                    hint="collect again to refresh it",
                ) from exc

    def get(self, item_id: str) -> NewsItem | None:
        row = self.db.execute("SELECT data FROM items WHERE id = ?", (item_id,)).fetchone()
        return NewsItem.model_validate_json(row[0]) if row else None

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    def source_state(self, name: str) -> SourceState:
        row = self.db.execute(
            "SELECT name, etag, last_modified, last_status, last_fetched FROM source_state"
            " WHERE name = ?",
            (name,),
        ).fetchone()
        return SourceState(*row) if row else SourceState(name)

    def save_source_state(self, state: SourceState) -> None:
        self.db.execute(
            "INSERT INTO source_state VALUES (?, ?, ?, ?, ?) ON CONFLICT(name) DO UPDATE SET"
            " etag = excluded.etag, last_modified = excluded.last_modified,"
            " last_status = excluded.last_status, last_fetched = excluded.last_fetched",
            (state.name, state.etag, state.last_modified, state.last_status, _now()),
        )

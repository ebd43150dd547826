"""The SQLite store of collected items.

One file per project (``.newsletter/store.db``). Each source's batch is written in one
transaction, together with the HTTP validators that produced it: a source that fails
half-way leaves what was stored before untouched, and never records a validator for
items it did not store. A story is stored once however many sources carry it
(store/dedupe.py decides what is the same story); its record lists every source, and
keeps when it was first and last seen.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from pydantic import ValidationError

from newsletter.errors import StoreError
from newsletter.models import STORED, NewsItem
from newsletter.store.db import Database
from newsletter.store.dedupe import DedupeIndex, Fingerprint, fingerprint, merge

SCHEMA_VERSION = "4"  # 4: sketches hash words, not shingle strings
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id          TEXT PRIMARY KEY,
    source      TEXT NOT NULL,          -- the story's first source
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
-- Every source that carried a story (NewsItem.sources, queryable).
CREATE TABLE IF NOT EXISTS item_sources (
    item_id  TEXT NOT NULL,
    source   TEXT NOT NULL,
    PRIMARY KEY (item_id, source)
);
CREATE INDEX IF NOT EXISTS item_sources_source ON item_sources (source);
-- Deduplication keys (g: guid, u: canonical URL, h: content hash) and sketches.
CREATE TABLE IF NOT EXISTS item_keys (
    key      TEXT PRIMARY KEY,
    item_id  TEXT NOT NULL
);
-- HTTP validators per source and URL, for conditional requests.
CREATE TABLE IF NOT EXISTS http_validators (
    source         TEXT NOT NULL,
    url            TEXT NOT NULL,
    etag           TEXT,
    last_modified  TEXT,
    PRIMARY KEY (source, url)
);
CREATE TABLE IF NOT EXISTS store_meta (
    key    TEXT PRIMARY KEY,
    value  TEXT NOT NULL
);
"""

# Near-duplicate sketches (store/dedupe.py); rebuilt from the items when their form changes.
SKETCH_TABLE = """
CREATE TABLE IF NOT EXISTS item_sketch (
    item_id    TEXT PRIMARY KEY,
    published  REAL NOT NULL,
    source     TEXT NOT NULL,
    sketch     TEXT NOT NULL,
    numbers    TEXT NOT NULL
)"""

# (etag, last_modified) per URL
HttpValidators = dict[str, tuple[str | None, str | None]]


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0  # stories already stored from another source that this source also carries


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


def _content_key(data: str) -> str:
    """A hash of the record's JSON (sources included): equal keys, nothing to write."""
    return hashlib.sha256(data.encode()).hexdigest()[:16]


class _Rows:
    """One batch's inserts, written with executemany at the end (or before a re-read)."""

    def __init__(self, now: str) -> None:
        self.now = now
        self.items: list[tuple[str, ...]] = []
        self.keys: list[tuple[str, str]] = []
        self.sources: list[tuple[str, str]] = []
        self.sketches: list[tuple[str, float, str, str, str]] = []
        self.seen: list[tuple[str, str]] = []
        self.pending: set[str] = set()

    def add(self, item: NewsItem, print_: Fingerprint) -> None:
        data = item.model_dump_json()
        self.items.append(
            (item.id, item.source, item.url, _utc_iso(item.published), _content_key(data),
             data, self.now, self.now)
        )  # fmt: skip
        self.pending.add(item.id)
        self.index(item.id, item, print_)

    def index(self, item_id: str, item: NewsItem, print_: Fingerprint, keys: bool = True) -> None:
        if keys:
            self.keys.extend((k, item_id) for k in print_.keys)
        self.sources.extend((item_id, s) for s in item.sources)
        self.sketches.append(
            (item_id, item.published.timestamp(), item.source, json.dumps(print_.sketch),
             print_.numbers)
        )  # fmt: skip

    def flush(self, db: sqlite3.Connection) -> None:
        db.executemany("INSERT INTO items VALUES (?, ?, ?, ?, ?, ?, ?, ?)", self.items)
        db.executemany("INSERT OR IGNORE INTO item_keys VALUES (?, ?)", self.keys)
        db.executemany("INSERT OR IGNORE INTO item_sources VALUES (?, ?)", self.sources)
        db.executemany(
            "INSERT INTO item_sketch VALUES (?, ?, ?, ?, ?) ON CONFLICT(item_id) DO UPDATE SET"
            " published = excluded.published, sketch = excluded.sketch,"
            " numbers = excluded.numbers",
            self.sketches,
        )
        db.executemany("UPDATE items SET last_seen = ? WHERE id = ?", self.seen)
        for batch in (self.items, self.keys, self.sources, self.sketches, self.seen):
            batch.clear()
        self.pending.clear()


@dataclass(frozen=True)
class StoredItem:
    """A stored story and when it was first and last collected (UTC)."""

    item: NewsItem
    first_seen: datetime
    last_seen: datetime


def _select(
    columns: str,
    start: datetime | None,
    end: datetime | None,
    source: str | None,
    search: str | None,
) -> tuple[str, list[str]]:
    """The query for stored items, newest first, within [start, end), by source or text."""
    clauses, params = [], []
    if start is not None:
        clauses.append("published >= ?")
        params.append(_utc_iso(start))
    if end is not None:
        clauses.append("published < ?")
        params.append(_utc_iso(end))
    if source is not None:
        clauses.append("id IN (SELECT item_id FROM item_sources WHERE source = ?)")
        params.append(source)
    if search:
        clauses.append("data LIKE ? ESCAPE '\\'")
        escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params.append(f"%{escaped}%")
    where = f"WHERE {' AND '.join(clauses)}" if clauses else ""
    return f"SELECT {columns} FROM items {where} ORDER BY published DESC, id", params


class Store(Database):
    def __init__(self, path: Path) -> None:
        self._index: DedupeIndex | None = None
        self._index_version = 0
        super().__init__(path, SCHEMA, busy_timeout=5.0)

    # -- writing ---------------------------------------------------------------------------

    def upsert(self, items: Iterable[NewsItem]) -> UpsertResult:
        """Insert or update items (matched by id, guid, URL or content), in one transaction."""
        return self.write_source(None, items)

    def write_source(
        self,
        name: str | None,
        items: Iterable[NewsItem],
        *,
        validators: HttpValidators | None = None,
        status: str | None = None,
    ) -> UpsertResult:
        """Store one source's items and its HTTP validators, all in one transaction."""
        result = UpsertResult()
        rows = _Rows(_now())
        try:
            with self.transaction(f"write {name or 'items'}"):
                index = self._current_index()
                for item in items:
                    self._write_one(item, index, rows, result)
                rows.flush(self.db)
                if name is not None:
                    for url, (etag, last_modified) in (validators or {}).items():
                        self.db.execute(
                            "INSERT INTO http_validators VALUES (?, ?, ?, ?)"
                            " ON CONFLICT(source, url) DO UPDATE SET etag = excluded.etag,"
                            " last_modified = excluded.last_modified",
                            (name, url, etag, last_modified),
                        )
                    if status is not None:
                        self.save_source_state(SourceState(name, last_status=status))
        except BaseException:
            self._index = None  # the in-memory index saw writes that were rolled back
            raise
        return result

    def _current_index(self) -> DedupeIndex:
        """The index, reloaded if another connection (another collect) wrote since it was
        loaded, so a story stored meanwhile is found, not inserted twice. Called under the
        write lock: nothing changes between this check and the writes."""
        if self._index is not None and self._index_version != self._data_version():
            self._index = None
        return self.index()

    def _data_version(self) -> int:  # changes when another connection commits to the file
        return int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def _write_one(
        self, item: NewsItem, index: DedupeIndex, rows: _Rows, result: UpsertResult
    ) -> None:
        if item.source not in item.sources:
            item = item.model_copy(update={"sources": sorted({*item.sources, item.source})})
        print_ = fingerprint(item)
        found = index.match(item, print_)
        if found is None:
            rows.add(item, print_)
            index.add(item.id, item, print_)
            result.new += 1
            return
        if found.item_id in rows.pending:
            rows.flush(self.db)  # a repeat within this batch: its first copy must be readable
        row = self.db.execute(
            "SELECT content, data FROM items WHERE id = ?", (found.item_id,)
        ).fetchone()
        existing = NewsItem.model_validate_json(row[1], context=STORED)
        record = merge(existing, item)
        data = record.model_dump_json()
        key = _content_key(data)
        # Another address or guid for a known story is remembered, so it is found directly.
        new_keys = [k for k in print_.keys if k not in index.keys]
        rows.keys.extend((k, record.id) for k in new_keys)
        for k in new_keys:
            index.keys[k] = record.id
        if key == row[0]:
            rows.seen.append((rows.now, record.id))
            result.unchanged += 1
            return
        self.db.execute(
            "UPDATE items SET url = ?, published = ?, content = ?, data = ?, last_seen = ?"
            " WHERE id = ?",
            (record.url, _utc_iso(record.published), key, data, rows.now, record.id),
        )  # fmt: skip
        record_print = fingerprint(record)
        rows.index(record.id, record, record_print, keys=False)
        index.remember(
            record.id, record.published.timestamp(), record.source, record_print.sketch,
            record_print.numbers,
        )  # fmt: skip
        if item.source in existing.sources:
            result.updated += 1
        else:
            result.merged += 1

    def index(self) -> DedupeIndex:
        """The deduplication index of everything stored, loaded once per Store."""
        if self._index is None:
            # Read first: a write landing while the index loads then makes it look stale.
            self._index_version = self._data_version()
            index = DedupeIndex()
            index.keys = dict(self.db.execute("SELECT key, item_id FROM item_keys"))
            for item_id, published, source, signature, numbers in self.db.execute(
                "SELECT item_id, published, source, sketch, numbers FROM item_sketch"
            ):
                index.remember(item_id, published, source, tuple(json.loads(signature)), numbers)
            self._index = index
        return self._index

    def migrate(self) -> None:
        """Bring a store written by an older version up to date (keys, sketches, sources)."""
        row = self.db.execute("SELECT value FROM store_meta WHERE key = 'schema'").fetchone()
        if row and row[0] == SCHEMA_VERSION:
            return
        with self.transaction("update the store to this version"):
            self.db.execute("DROP TABLE IF EXISTS item_sketch")  # rebuilt from the items
            self.db.execute(SKETCH_TABLE)
            for item_id, data in self.db.execute("SELECT id, data FROM items").fetchall():
                try:
                    item = NewsItem.model_validate_json(data, context=STORED)
                except ValidationError:
                    continue  # reported when it is read; collecting again refreshes it
                rows = _Rows(_now())
                rows.index(item_id, item, fingerprint(item))
                rows.flush(self.db)
                self.db.execute(
                    "UPDATE items SET content = ? WHERE id = ?", (_content_key(data), item_id)
                )
            self.db.execute(
                "INSERT OR REPLACE INTO store_meta VALUES ('schema', ?)", (SCHEMA_VERSION,)
            )

    # -- reading ---------------------------------------------------------------------------

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
        """Like ``items``; ``source`` matches any source that carried the story."""
        sql, params = _select("id, data", start, end, source, search)
        for item_id, data in self.db.execute(sql, params).fetchall():
            yield self._item(item_id, data)

    def iter_stored(
        self,
        *,
        start: datetime | None = None,
        end: datetime | None = None,
        source: str | None = None,
        search: str | None = None,
    ) -> Iterator[StoredItem]:
        """Like ``iter_items``, with when each story was first and last collected: one query,
        read as it is consumed."""
        sql, params = _select("id, data, first_seen, last_seen", start, end, source, search)
        for item_id, data, first_seen, last_seen in self.db.execute(sql, params):
            yield StoredItem(
                self._item(item_id, data),
                datetime.fromisoformat(first_seen),
                datetime.fromisoformat(last_seen),
            )

    def _item(self, item_id: str, data: str) -> NewsItem:
        try:
            return NewsItem.model_validate_json(data, context=STORED)
        except ValidationError as exc:
            raise StoreError(
                f"{self.path}: stored item {item_id} no longer validates: {exc}",
                hint="collect again to refresh it",
            ) from exc

    def get(self, item_id: str) -> NewsItem | None:
        row = self.db.execute("SELECT data FROM items WHERE id = ?", (item_id,)).fetchone()
        return NewsItem.model_validate_json(row[0], context=STORED) if row else None

    def count(self) -> int:
        return int(self.db.execute("SELECT COUNT(*) FROM items").fetchone()[0])

    def seen(self, item_id: str) -> tuple[datetime, datetime] | None:
        """When a story was first and last collected (UTC)."""
        row = self.db.execute(
            "SELECT first_seen, last_seen FROM items WHERE id = ?", (item_id,)
        ).fetchone()
        return (datetime.fromisoformat(row[0]), datetime.fromisoformat(row[1])) if row else None

    # -- per-source state ------------------------------------------------------------------

    def validators(self, name: str) -> HttpValidators:
        """The ETag / Last-Modified each of a source's URLs answered with last time."""
        rows = self.db.execute(
            "SELECT url, etag, last_modified FROM http_validators WHERE source = ?", (name,)
        )
        return {url: (etag, last_modified) for url, etag, last_modified in rows}

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

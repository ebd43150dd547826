"""The store of collected items (stories), on SQLite or PostgreSQL.

One store per project (``.newsletter/store.db`` unless ``[database] url`` says otherwise).
Each source's batch is written in one
transaction, together with the HTTP validators that produced it: a source that fails
half-way leaves what was stored before untouched, and never records a validator for
items it did not store. A story is stored once however many sources carry it
(store/dedupe.py decides what is the same story); its record lists every source, and
keeps when it was first and last seen.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from pydantic import ValidationError
from sqlalchemy import Select, delete, func, select, update
from sqlalchemy.engine import Connection

from newsletter.errors import StoreError
from newsletter.models import STORED, NewsItem
from newsletter.store.db import Database, Target, insert
from newsletter.store.dedupe import DedupeIndex, fingerprint, merge
from newsletter.store.schema import (
    http_validators,
    item_sketch,
    item_sources,
    items,
    store_meta,
)
from newsletter.store.storyrows import (
    Rows,
    UpsertResult,
    content_key,
    load_index,
    now_iso,
    utc_iso,
)

SCHEMA_VERSION = "4"  # 4: sketches hash words, not shingle strings
# Bumped by every write of stories: a Store whose index was loaded at another value knows that
# another process (another collect) wrote meanwhile, and reloads it before matching.
WRITES_KEY = "stories_written"

# (etag, last_modified) per URL
HttpValidators = dict[str, tuple[str | None, str | None]]


@dataclass(frozen=True)
class StoredItem:
    """A stored story and when it was first and last collected (UTC)."""

    item: NewsItem
    first_seen: datetime
    last_seen: datetime


def _select(
    columns: tuple[Any, ...], start: datetime | None, end: datetime | None, source: str | None
) -> Select[Any]:
    """Stored items, newest first, within [start, end), carried by ``source``."""
    query = select(*columns).order_by(items.c.published.desc(), items.c.id)
    if start is not None:
        query = query.where(items.c.published >= utc_iso(start))
    if end is not None:
        query = query.where(items.c.published < utc_iso(end))
    if source is not None:
        carried = select(item_sources.c.item_id).where(item_sources.c.source == source)
        query = query.where(items.c.id.in_(carried))
    return query


def _search(query: Select[Any], search: str | None, conn: Connection) -> Select[Any]:
    """Only records holding ``search``, ignoring the case of ASCII letters."""
    if not search:
        return query
    escaped = search.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    # SQLite's LIKE already ignores ASCII case; PostgreSQL's needs ILIKE.
    like = items.c.data.like if conn.dialect.name == "sqlite" else items.c.data.ilike
    return query.where(like(f"%{escaped}%", escape="\\"))


class Store(Database):
    def __init__(self, target: Target) -> None:
        self._index: DedupeIndex | None = None
        self._index_writes: str | None = None  # WRITES_KEY when the index was loaded
        super().__init__(target, busy_timeout=5.0)
        try:
            self._refresh_sketches()
        except BaseException:
            self.close()
            raise

    # -- writing ---------------------------------------------------------------------------

    def write_source(
        self,
        name: str,
        items: Iterable[NewsItem],
        *,
        validators: HttpValidators | None = None,
    ) -> UpsertResult:
        """Store one source's items and its HTTP validators, all in one transaction.

        Writers of stories take turns (SQLite's write lock; on PostgreSQL an advisory lock),
        and the deduplication index is reloaded when another process wrote since it was
        loaded: two collects at once never store a story twice.
        """
        result = UpsertResult()
        rows = Rows(now_iso())
        try:
            with self.transaction(f"write {name}", lock="stories") as conn:
                index = self._current_index(conn)
                for item in items:
                    self._write_one(conn, item, index, rows, result)
                rows.flush(conn)
                if validators:
                    stmt = insert(conn, http_validators)
                    conn.execute(
                        stmt.on_conflict_do_update(
                            index_elements=[http_validators.c.source, http_validators.c.url],
                            set_={c: stmt.excluded[c] for c in ("etag", "last_modified")},
                        ),
                        [
                            {"source": name, "url": url, "etag": etag, "last_modified": modified}
                            for url, (etag, modified) in validators.items()
                        ],
                    )
                self._index_writes = _bump_writes(conn)
        except BaseException:
            self._index = None  # the in-memory index saw writes that were rolled back
            raise
        return result

    def _current_index(self, conn: Connection) -> DedupeIndex:
        """The index, reloaded if another process wrote stories since it was loaded (called
        under the writers' lock: nothing changes between this check and the writes)."""
        if self._index is not None and self._index_writes != _writes(conn):
            self._index = None
        if self._index is None:
            self._index_writes = _writes(conn)
            self._index = load_index(conn)
        return self._index

    def _write_one(
        self,
        conn: Connection,
        item: NewsItem,
        index: DedupeIndex,
        rows: Rows,
        result: UpsertResult,
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
            rows.flush(conn)  # a repeat within this batch: its first copy must be readable
        row = conn.execute(
            select(items.c.content, items.c.data).where(items.c.id == found.item_id)
        ).one()
        existing = NewsItem.model_validate_json(row[1], context=STORED)
        record = merge(existing, item)
        data = record.model_dump_json()
        key = content_key(data)
        # Another address or guid for a known story is remembered, so it is found directly.
        new_keys = [k for k in print_.keys if k not in index.keys]
        rows.keys.extend({"key": k, "item_id": record.id} for k in new_keys)
        for k in new_keys:
            index.keys[k] = record.id
        if key == row[0]:
            rows.seen.append({"seen_at": rows.now, "seen_id": record.id})
            result.unchanged += 1
            return
        conn.execute(
            update(items)
            .where(items.c.id == record.id)
            .values(url=record.url, published=utc_iso(record.published), content=key,
                    data=data, last_seen=rows.now)
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
            with self.read("load the deduplication index") as conn:
                self._index_writes = _writes(conn)
                self._index = load_index(conn)
        return self._index

    def _refresh_sketches(self) -> None:
        """Rebuild the near-duplicate sketches when their form changed (SCHEMA_VERSION)."""
        with self.read() as conn:
            if _meta(conn, "schema") == SCHEMA_VERSION:
                return
        with self.transaction("update the store to this version", lock="stories") as conn:
            if _meta(conn, "schema") == SCHEMA_VERSION:
                return  # another process did it meanwhile
            conn.execute(delete(item_sketch))
            for item_id, data in conn.execute(select(items.c.id, items.c.data)).all():
                try:
                    item = NewsItem.model_validate_json(data, context=STORED)
                except ValidationError:
                    continue  # reported when it is read; collecting again refreshes it
                rows = Rows(now_iso())
                rows.index(item_id, item, fingerprint(item))
                rows.flush(conn)
                conn.execute(
                    update(items).where(items.c.id == item_id).values(content=content_key(data))
                )
            _set_meta(conn, "schema", SCHEMA_VERSION)

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
        """Like ``items``; ``source`` matches any source that carried the story.

        ``search`` matches the stored record, ignoring the case of ASCII letters.
        """
        query = _select((items.c.id, items.c.data), start, end, source)
        with self.read("read stories") as conn:
            rows = conn.execute(_search(query, search, conn)).all()
        for item_id, data in rows:
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
        columns = (items.c.id, items.c.data, items.c.first_seen, items.c.last_seen)
        query = _select(columns, start, end, source)
        with self.read("read stories") as conn:
            result = conn.execution_options(yield_per=1000).execute(_search(query, search, conn))
            for item_id, data, first_seen, last_seen in result:
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
                f"{self.url.display}: stored item {item_id} no longer validates: {exc}",
                hint="collect again to refresh it",
            ) from exc

    def get(self, item_id: str) -> NewsItem | None:
        with self.read("read a story") as conn:
            data = conn.execute(select(items.c.data).where(items.c.id == item_id)).scalar()
        return NewsItem.model_validate_json(data, context=STORED) if data is not None else None

    def count(self) -> int:
        with self.read("count stories") as conn:
            return int(conn.execute(select(func.count()).select_from(items)).scalar_one())

    def seen(self, item_id: str) -> tuple[datetime, datetime] | None:
        """When a story was first and last collected (UTC)."""
        query = select(items.c.first_seen, items.c.last_seen).where(items.c.id == item_id)
        with self.read("read a story") as conn:
            row = conn.execute(query).first()
        return (datetime.fromisoformat(row[0]), datetime.fromisoformat(row[1])) if row else None

    # -- per-source state ------------------------------------------------------------------

    def validators(self, name: str) -> HttpValidators:
        """The ETag / Last-Modified each of a source's URLs answered with last time."""
        query = select(
            http_validators.c.url, http_validators.c.etag, http_validators.c.last_modified
        ).where(http_validators.c.source == name)
        with self.read("read the HTTP validators") as conn:
            return {url: (etag, modified) for url, etag, modified in conn.execute(query)}


def _meta(conn: Connection, key: str) -> str | None:
    return conn.execute(select(store_meta.c.value).where(store_meta.c.key == key)).scalar()


def _set_meta(conn: Connection, key: str, value: str) -> None:
    stmt = insert(conn, store_meta).values(key=key, value=value)
    conn.execute(
        stmt.on_conflict_do_update(index_elements=[store_meta.c.key], set_={"value": value})
    )


def _writes(conn: Connection) -> str:
    return _meta(conn, WRITES_KEY) or "0"


def _bump_writes(conn: Connection) -> str:
    value = str(int(_writes(conn)) + 1)
    _set_meta(conn, WRITES_KEY, value)
    return value

"""How stories become rows: one batch's inserts, the record's content key, times as text,
and the deduplication index read back from its tables."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import bindparam, select, update
from sqlalchemy.engine import Connection

from newsletter.models import NewsItem
from newsletter.store.db import insert
from newsletter.store.dedupe import DedupeIndex, Fingerprint
from newsletter.store.schema import item_keys, item_sketch, item_sources, items


@dataclass
class UpsertResult:
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    merged: int = 0  # stories already stored from another source that this source also carries


def utc_iso(value: datetime) -> str:
    return value.astimezone(UTC).isoformat()


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="seconds")


def content_key(data: str) -> str:
    """A hash of the record's JSON (sources included): equal keys, nothing to write."""
    return hashlib.sha256(data.encode()).hexdigest()[:16]


class Rows:
    """One batch's inserts, written with executemany at the end (or before a re-read)."""

    def __init__(self, now: str) -> None:
        self.now = now
        self.items: list[dict[str, Any]] = []
        self.keys: list[dict[str, str]] = []
        self.sources: list[dict[str, str]] = []
        self.sketches: list[dict[str, Any]] = []
        self.seen: list[dict[str, str]] = []
        self.pending: set[str] = set()

    def add(self, item: NewsItem, print_: Fingerprint) -> None:
        data = item.model_dump_json()
        self.items.append({
            "id": item.id, "source": item.source, "url": item.url,
            "published": utc_iso(item.published), "content": content_key(data), "data": data,
            "first_seen": self.now, "last_seen": self.now,
        })  # fmt: skip
        self.pending.add(item.id)
        self.index(item.id, item, print_)

    def index(self, item_id: str, item: NewsItem, print_: Fingerprint, keys: bool = True) -> None:
        if keys:
            self.keys.extend({"key": k, "item_id": item_id} for k in print_.keys)
        self.sources.extend({"item_id": item_id, "source": s} for s in item.sources)
        self.sketches.append({
            "item_id": item_id, "published": item.published.timestamp(), "source": item.source,
            "sketch": json.dumps(print_.sketch), "numbers": print_.numbers,
        })  # fmt: skip

    def flush(self, conn: Connection) -> None:
        if self.items:
            conn.execute(items.insert(), self.items)
        if self.keys:
            conn.execute(insert(conn, item_keys).on_conflict_do_nothing(), self.keys)
        if self.sources:
            conn.execute(insert(conn, item_sources).on_conflict_do_nothing(), self.sources)
        if self.sketches:
            stmt = insert(conn, item_sketch)
            conn.execute(
                stmt.on_conflict_do_update(
                    index_elements=[item_sketch.c.item_id],
                    set_={c: stmt.excluded[c] for c in ("published", "sketch", "numbers")},
                ),
                self.sketches,
            )
        if self.seen:
            conn.execute(
                update(items)
                .where(items.c.id == bindparam("seen_id"))
                .values(last_seen=bindparam("seen_at")),
                self.seen,
            )
        for batch in (self.items, self.keys, self.sources, self.sketches, self.seen):
            batch.clear()
        self.pending.clear()


def load_index(conn: Connection) -> DedupeIndex:
    index = DedupeIndex()
    index.keys = dict(conn.execute(select(item_keys.c.key, item_keys.c.item_id)).all())
    query = select(
        item_sketch.c.item_id, item_sketch.c.published, item_sketch.c.source,
        item_sketch.c.sketch, item_sketch.c.numbers,
    )  # fmt: skip
    for item_id, published, source, signature, numbers in conn.execute(query):
        index.remember(item_id, published, source, tuple(json.loads(signature)), numbers)
    return index

"""Every stored table, as SQLAlchemy Core definitions shared by SQLite and PostgreSQL.

The migrations in ``migrations/versions`` create exactly these (a test compares them), and
``HEAD`` is their newest revision, so that opening a store checks its version with one query
and imports Alembic only when there is something to upgrade.

Times are ISO 8601 text in UTC, so text order is time order. On PostgreSQL text columns use
the "C" collation: ordering and comparison are byte-wise, as on SQLite, whatever locale the
database was created with.
"""

from __future__ import annotations

from sqlalchemy import (
    CheckConstraint,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    Table,
    Text,
)
from sqlalchemy.types import TypeEngine

HEAD = "0002"  # the newest migration; tests/test_db_migrations.py checks it

metadata = MetaData()


def text() -> TypeEngine[str]:
    return Text().with_variant(Text(collation="C"), "postgresql")


# -- stories (store/stories.py) -----------------------------------------------------------------

items = Table(
    "items",
    metadata,
    Column("id", text(), primary_key=True),
    Column("source", text(), nullable=False),  # the story's first source
    Column("url", text(), nullable=False),
    Column("published", text(), nullable=False),
    Column("content", text(), nullable=False),  # hash of the record: updated or unchanged
    Column("data", text(), nullable=False),  # the NewsItem as JSON
    Column("first_seen", text(), nullable=False),
    Column("last_seen", text(), nullable=False),
    Index("items_published", "published"),
    Index("items_source", "source"),
    Index("items_url", "url"),
)

# Every source that carried a story (NewsItem.sources, queryable).
item_sources = Table(
    "item_sources",
    metadata,
    Column("item_id", text(), nullable=False),
    Column("source", text(), nullable=False),
    PrimaryKeyConstraint("item_id", "source"),
    Index("item_sources_source", "source"),
)

# Deduplication keys (g: guid, u: canonical URL, h: content hash).
item_keys = Table(
    "item_keys",
    metadata,
    Column("key", text(), primary_key=True),
    Column("item_id", text(), nullable=False),
)

# Near-duplicate sketches (store/dedupe.py); rebuilt from the items when their form changes.
item_sketch = Table(
    "item_sketch",
    metadata,
    Column("item_id", text(), primary_key=True),
    Column("published", Float(), nullable=False),
    Column("source", text(), nullable=False),
    Column("sketch", text(), nullable=False),
    Column("numbers", text(), nullable=False),
)

# HTTP validators per source and URL, for conditional requests.
http_validators = Table(
    "http_validators",
    metadata,
    Column("source", text(), nullable=False),
    Column("url", text(), nullable=False),
    Column("etag", text()),
    Column("last_modified", text()),
    PrimaryKeyConstraint("source", "url"),
)

store_meta = Table(
    "store_meta",
    metadata,
    Column("key", text(), primary_key=True),
    Column("value", text(), nullable=False),
)

# -- delivery (store/sendlog.py, store/suppression.py) ------------------------------------------

send_log = Table(
    "send_log",
    metadata,
    Column("issue", text(), nullable=False),
    Column("recipient", text(), nullable=False),  # the address, lower-cased
    Column("status", text(), nullable=False),
    Column("via", text(), nullable=False),
    Column("message_id", text()),
    Column("attempts", Integer(), nullable=False, server_default="0"),
    Column("detail", text()),
    Column("updated", text(), nullable=False),
    Column("run_id", text()),  # the run holding a claimed or sending row (send_runs), else NULL
    PrimaryKeyConstraint("issue", "recipient"),
    CheckConstraint(
        "status IN ('claimed', 'sending', 'sent', 'failed', 'deferred')", name="send_log_status"
    ),
    Index("send_log_run", "run_id"),
)

# One row per `send` process while it runs: who holds the claims, and until when (its lease).
send_runs = Table(
    "send_runs",
    metadata,
    Column("id", text(), primary_key=True),
    Column("issue", text(), nullable=False),
    Column("host", text(), nullable=False),
    Column("machine", text(), nullable=False),  # boot id and pid namespace (store/owner.py)
    Column("pid", Integer(), nullable=False),
    Column("started", text(), nullable=False),  # the process's start time: a reused pid
    Column("since", text(), nullable=False),
    Column("expires", Float(), nullable=False),  # unix time, moved on by the heartbeat
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("email", text(), primary_key=True),  # lower-cased
    Column("reason", text(), nullable=False),
    Column("source", text()),
    Column("added", text(), nullable=False),
)

# What `newsletter db status` counts and `newsletter db copy` moves, in an order that keeps
# each table's references (none are enforced) before their users.
TABLES: tuple[Table, ...] = (
    items,
    item_sources,
    item_keys,
    item_sketch,
    http_validators,
    store_meta,
    send_log,
    send_runs,
    suppressions,
)

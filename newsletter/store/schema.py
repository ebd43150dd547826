"""Every stored table, as SQLAlchemy Core definitions shared by SQLite and PostgreSQL.

The migrations in ``migrations/versions`` create exactly these (a test compares them), and
``HEAD`` is their newest revision, so that opening a store checks its version with one query
and imports Alembic only when there is something to upgrade.

Times are ISO 8601 text in UTC, so text order is time order. On PostgreSQL text columns use
the "C" collation: ordering and comparison are byte-wise, as on SQLite, whatever locale the
database was created with.
"""

from __future__ import annotations

from datetime import UTC, datetime

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
    UniqueConstraint,
)
from sqlalchemy.types import TypeEngine

HEAD = "0004"  # the newest migration; tests/test_db_migrations.py checks it

metadata = MetaData()


def text() -> TypeEngine[str]:
    return Text().with_variant(Text(collation="C"), "postgresql")


def stamp(moment: datetime) -> str:
    """A moment as stored: ISO 8601 in UTC with microseconds (fixed width, so text order is
    time order on both backends)."""
    aware = moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="microseconds")


def moment(value: str | None) -> datetime | None:
    return None if value is None else datetime.fromisoformat(value)


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

# The steps of a send through a provider's API that are not one recipient's message (a
# campaign created, a contact import, a campaign started), so that a rerun never repeats
# one: ``claimed`` before the request, ``accepted`` (with the provider's id) after it.
provider_batches = Table(
    "provider_batches",
    metadata,
    Column("issue", text(), nullable=False),
    Column("provider", text(), nullable=False),
    Column("batch", text(), nullable=False),  # e.g. "campaign", "import-3f2a...", "start"
    Column("state", text(), nullable=False),
    Column("provider_id", text()),
    Column("detail", text()),
    Column("updated", text(), nullable=False),
    PrimaryKeyConstraint("issue", "provider", "batch"),
    CheckConstraint("state IN ('claimed', 'accepted')", name="provider_batches_state"),
)

suppressions = Table(
    "suppressions",
    metadata,
    Column("email", text(), primary_key=True),  # lower-cased
    Column("reason", text(), nullable=False),
    Column("source", text()),
    Column("added", text(), nullable=False),
)

# -- the list (store/subscribers.py, store/events.py) ---------------------------------------------

subscribers = Table(
    "subscribers",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("email", text(), nullable=False, unique=True),  # lower-cased
    Column("name", text(), nullable=False),
    Column("language", text(), nullable=False),
    Column("topics", text(), nullable=False),  # a JSON list
    Column("status", text(), nullable=False),
    Column("created_at", text(), nullable=False),
    Column("updated_at", text(), nullable=False),
    Column("confirmed_at", text()),
    Column("confirm_nonce", text()),  # the pending confirmation link's, used once
    Column("confirmation_sent_at", text()),
)

# One record per change of consent, never overwritten: the proof GDPR Art. 7(1) asks for.
consent_events = Table(
    "consent_events",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("email", text(), nullable=False),
    Column("at", text(), nullable=False),
    Column("action", text(), nullable=False),
    Column("method", text(), nullable=False),
    Column("text_version", text()),
    Column("ip", text()),
    Column("confirmed_at", text()),
    Column("details", text(), nullable=False),
    Index("consent_events_email", "email"),
)

# The exact wording a form showed, by version (a hash of the text).
consent_texts = Table(
    "consent_texts",
    metadata,
    Column("version", text(), primary_key=True),
    Column("text", text(), nullable=False),
    Column("first_used", text(), nullable=False),
)

# Provider events (bounces, complaints, deliveries), each once, with the raw payload.
events = Table(
    "events",
    metadata,
    Column("id", Integer(), primary_key=True, autoincrement=True),
    Column("provider", text(), nullable=False),
    Column("event_id", text(), nullable=False),
    Column("kind", text(), nullable=False),
    Column("severity", text()),  # hard | soft, for bounces
    Column("email", text(), nullable=False),
    Column("issue", text()),
    Column("at", text(), nullable=False),
    Column("received_at", text(), nullable=False),
    Column("detail", text(), nullable=False),
    Column("payload", text(), nullable=False),
    UniqueConstraint("provider", "event_id", name="events_provider_event_id"),
    Index("events_email", "email"),
    Index("events_issue", "issue"),
)

# Webhook nonces already seen (a Mailgun token): a replay is refused.
webhook_nonces = Table(
    "webhook_nonces",
    metadata,
    Column("provider", text(), nullable=False),
    Column("nonce", text(), nullable=False),
    Column("seen_at", text(), nullable=False),
    PrimaryKeyConstraint("provider", "nonce"),
)

# Story links of each sent issue behind the /r/<id> redirect, with their click counts.
links = Table(
    "links",
    metadata,
    Column("id", text(), primary_key=True),
    Column("issue", text(), nullable=False),
    Column("url", text(), nullable=False),
    Column("clicks", Integer(), nullable=False, server_default="0"),
    Index("links_issue", "issue"),
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
    provider_batches,
    suppressions,
    subscribers,
    consent_events,
    consent_texts,
    events,
    webhook_nonces,
    links,
)

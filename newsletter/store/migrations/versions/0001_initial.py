"""The store as it was before migrations: stories, HTTP validators, send log, suppressions.

Every table and index is created only if missing, so a SQLite store written by an older
version (the same tables, no version yet) is adopted as it is.

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "items",
        sa.Column("id", text(), primary_key=True),
        sa.Column("source", text(), nullable=False),
        sa.Column("url", text(), nullable=False),
        sa.Column("published", text(), nullable=False),
        sa.Column("content", text(), nullable=False),
        sa.Column("data", text(), nullable=False),
        sa.Column("first_seen", text(), nullable=False),
        sa.Column("last_seen", text(), nullable=False),
        if_not_exists=True,
    )
    for column in ("published", "source", "url"):
        op.create_index(f"items_{column}", "items", [column], if_not_exists=True)
    op.create_table(
        "item_sources",
        sa.Column("item_id", text(), nullable=False),
        sa.Column("source", text(), nullable=False),
        sa.PrimaryKeyConstraint("item_id", "source"),
        if_not_exists=True,
    )
    op.create_index("item_sources_source", "item_sources", ["source"], if_not_exists=True)
    op.create_table(
        "item_keys",
        sa.Column("key", text(), primary_key=True),
        sa.Column("item_id", text(), nullable=False),
        if_not_exists=True,
    )
    op.create_table(
        "item_sketch",
        sa.Column("item_id", text(), primary_key=True),
        sa.Column("published", sa.Float(), nullable=False),
        sa.Column("source", text(), nullable=False),
        sa.Column("sketch", text(), nullable=False),
        sa.Column("numbers", text(), nullable=False),
        if_not_exists=True,
    )
    op.create_table(
        "http_validators",
        sa.Column("source", text(), nullable=False),
        sa.Column("url", text(), nullable=False),
        sa.Column("etag", text()),
        sa.Column("last_modified", text()),
        sa.PrimaryKeyConstraint("source", "url"),
        if_not_exists=True,
    )
    op.create_table(
        "store_meta",
        sa.Column("key", text(), primary_key=True),
        sa.Column("value", text(), nullable=False),
        if_not_exists=True,
    )
    op.create_table(
        "send_log",
        sa.Column("issue", text(), nullable=False),
        sa.Column("recipient", text(), nullable=False),
        sa.Column("status", text(), nullable=False),
        sa.Column("via", text(), nullable=False),
        sa.Column("message_id", text()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("detail", text()),
        sa.Column("updated", text(), nullable=False),
        sa.PrimaryKeyConstraint("issue", "recipient"),
        sa.CheckConstraint(
            "status IN ('sending', 'sent', 'failed', 'deferred')", name="send_log_status"
        ),
        if_not_exists=True,
    )
    op.create_table(
        "suppressions",
        sa.Column("email", text(), primary_key=True),
        sa.Column("reason", text(), nullable=False),
        sa.Column("source", text()),
        sa.Column("added", text(), nullable=False),
        if_not_exists=True,
    )


def downgrade() -> None:
    for table in (
        "suppressions", "send_log", "store_meta", "http_validators", "item_sketch",
        "item_keys", "item_sources", "items",
    ):  # fmt: skip
        op.drop_table(table)

"""The list: subscribers and their consent history, provider events, webhook nonces, links.

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "subscribers",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("email", text(), nullable=False, unique=True),
        sa.Column("name", text(), nullable=False),
        sa.Column("language", text(), nullable=False),
        sa.Column("topics", text(), nullable=False),
        sa.Column("status", text(), nullable=False),
        sa.Column("created_at", text(), nullable=False),
        sa.Column("updated_at", text(), nullable=False),
        sa.Column("confirmed_at", text()),
        sa.Column("confirm_nonce", text()),
        sa.Column("confirmation_sent_at", text()),
    )
    op.create_table(
        "consent_events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("email", text(), nullable=False),
        sa.Column("at", text(), nullable=False),
        sa.Column("action", text(), nullable=False),
        sa.Column("method", text(), nullable=False),
        sa.Column("text_version", text()),
        sa.Column("ip", text()),
        sa.Column("confirmed_at", text()),
        sa.Column("details", text(), nullable=False),
    )
    op.create_index("consent_events_email", "consent_events", ["email"])
    op.create_table(
        "consent_texts",
        sa.Column("version", text(), primary_key=True),
        sa.Column("text", text(), nullable=False),
        sa.Column("first_used", text(), nullable=False),
    )
    op.create_table(
        "events",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=True),
        sa.Column("provider", text(), nullable=False),
        sa.Column("event_id", text(), nullable=False),
        sa.Column("kind", text(), nullable=False),
        sa.Column("severity", text()),
        sa.Column("email", text(), nullable=False),
        sa.Column("issue", text()),
        sa.Column("at", text(), nullable=False),
        sa.Column("received_at", text(), nullable=False),
        sa.Column("detail", text(), nullable=False),
        sa.Column("payload", text(), nullable=False),
        sa.UniqueConstraint("provider", "event_id", name="events_provider_event_id"),
    )
    op.create_index("events_email", "events", ["email"])
    op.create_index("events_issue", "events", ["issue"])
    op.create_table(
        "webhook_nonces",
        sa.Column("provider", text(), nullable=False),
        sa.Column("nonce", text(), nullable=False),
        sa.Column("seen_at", text(), nullable=False),
        sa.PrimaryKeyConstraint("provider", "nonce"),
    )
    op.create_table(
        "links",
        sa.Column("id", text(), primary_key=True),
        sa.Column("issue", text(), nullable=False),
        sa.Column("url", text(), nullable=False),
        sa.Column("clicks", sa.Integer(), nullable=False, server_default="0"),
    )
    op.create_index("links_issue", "links", ["issue"])


def downgrade() -> None:
    for table in (
        "links", "webhook_nonces", "events", "consent_texts", "consent_events", "subscribers",
    ):  # fmt: skip
        op.drop_table(table)

"""provider_batches: the campaign-level steps of a send through a provider's API.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def upgrade() -> None:
    op.create_table(
        "provider_batches",
        sa.Column("issue", text(), nullable=False),
        sa.Column("provider", text(), nullable=False),
        sa.Column("batch", text(), nullable=False),
        sa.Column("state", text(), nullable=False),
        sa.Column("provider_id", text()),
        sa.Column("detail", text()),
        sa.Column("updated", text(), nullable=False),
        sa.PrimaryKeyConstraint("issue", "provider", "batch"),
        sa.CheckConstraint("state IN ('claimed', 'accepted')", name="provider_batches_state"),
    )


def downgrade() -> None:
    op.drop_table("provider_batches")

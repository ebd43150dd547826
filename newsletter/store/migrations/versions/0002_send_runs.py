"""The send log's claims get owners: ``run_id`` on send_log, a ``claimed`` status, send_runs.

A SQLite store that this version's send log already opened has all of it (store/sendlog.py
upgrades it the same way), so each step is skipped when its result is there.

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

STATUSES = "status IN ('claimed', 'sending', 'sent', 'failed', 'deferred')"
OLD_STATUSES = "status IN ('sending', 'sent', 'failed', 'deferred')"
COLUMNS = "issue, recipient, status, via, message_id, attempts, detail, updated"


def text() -> sa.types.TypeEngine[str]:
    return sa.Text().with_variant(sa.Text(collation="C"), "postgresql")


def _send_log(name: str) -> None:
    op.create_table(
        name,
        sa.Column("issue", text(), nullable=False),
        sa.Column("recipient", text(), nullable=False),
        sa.Column("status", text(), nullable=False),
        sa.Column("via", text(), nullable=False),
        sa.Column("message_id", text()),
        sa.Column("attempts", sa.Integer(), nullable=False, server_default="0"),
        sa.Column("detail", text()),
        sa.Column("updated", text(), nullable=False),
        sa.Column("run_id", text()),
        sa.PrimaryKeyConstraint("issue", "recipient"),
        sa.CheckConstraint(STATUSES, name="send_log_status"),
    )


def upgrade() -> None:
    bind = op.get_bind()
    columns = {c["name"] for c in sa.inspect(bind).get_columns("send_log")}
    if "run_id" not in columns:
        if bind.dialect.name == "sqlite":  # a CHECK constraint cannot be altered in place
            op.rename_table("send_log", "send_log_old")
            _send_log("send_log")
            op.execute(f"INSERT INTO send_log ({COLUMNS}) SELECT {COLUMNS} FROM send_log_old")
            op.drop_table("send_log_old")
        else:
            op.add_column("send_log", sa.Column("run_id", text()))
            op.drop_constraint("send_log_status", "send_log", type_="check")
            op.create_check_constraint("send_log_status", "send_log", STATUSES)
    op.create_index("send_log_run", "send_log", ["run_id"], if_not_exists=True)
    op.create_table(
        "send_runs",
        sa.Column("id", text(), primary_key=True),
        sa.Column("issue", text(), nullable=False),
        sa.Column("host", text(), nullable=False),
        sa.Column("machine", text(), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("started", text(), nullable=False),
        sa.Column("since", text(), nullable=False),
        sa.Column("expires", sa.Float(), nullable=False),
        if_not_exists=True,
    )


def downgrade() -> None:
    op.drop_table("send_runs")
    op.drop_index("send_log_run", "send_log")
    op.execute("DELETE FROM send_log WHERE status = 'claimed'")
    with op.batch_alter_table("send_log") as batch:
        batch.drop_column("run_id")
        batch.drop_constraint("send_log_status", type_="check")
        batch.create_check_constraint("send_log_status", OLD_STATUSES)

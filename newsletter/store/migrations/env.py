"""Alembic's entry point: runs the migrations on the connection store/migrate.py hands over.

There is no alembic.ini: the caller passes an open connection (already in its transaction,
holding the lock that keeps two upgrades from running at once) in ``config.attributes``.
"""

from __future__ import annotations

from alembic import context

from newsletter.store.schema import metadata

connection = context.config.attributes["connection"]
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
    transactional_ddl=True,
)
with context.begin_transaction():
    context.run_migrations()

"""Alembic environment. Runs on a connection handed in by ``hub.db.migrate`` (async engine)."""

from __future__ import annotations

from alembic import context

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations with `memberhub migrate`, which supplies the connection")

context.configure(connection=connection, transaction_per_migration=False)
with context.begin_transaction():
    context.run_migrations()

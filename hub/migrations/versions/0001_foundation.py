"""Foundation: API clients and the transactional outbox.

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


STATEMENTS = [
    """
        CREATE TABLE api_clients (
            id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            name        text NOT NULL CHECK (btrim(name) <> ''),
            kind        text NOT NULL CHECK (kind IN ('admin', 'pos', 'partner', 'frontend')),
            scopes      text[] NOT NULL DEFAULT '{}',
            store_id    text,
            key_hash    bytea NOT NULL UNIQUE CHECK (length(key_hash) = 32),
            key_prefix  text NOT NULL,
            created_at  timestamptz NOT NULL DEFAULT now(),
            revoked_at  timestamptz,
            CHECK (kind <> 'pos' OR store_id IS NOT NULL)
        )
    """,
    # A name is reusable once its client is revoked.
    "CREATE UNIQUE INDEX api_clients_active_name ON api_clients (name) WHERE revoked_at IS NULL",
    """
        CREATE TABLE outbox_events (
            id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            event_id       uuid NOT NULL UNIQUE,
            event_type     text NOT NULL,
            version        integer NOT NULL,
            member_id      bigint,
            payload        jsonb NOT NULL,
            occurred_at    timestamptz NOT NULL,
            dispatched_at  timestamptz
        )
    """,
    "CREATE INDEX outbox_events_pending ON outbox_events (id) WHERE dispatched_at IS NULL",
    "CREATE INDEX outbox_events_member ON outbox_events (member_id, id)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE outbox_events")
    op.execute("DROP TABLE api_clients")

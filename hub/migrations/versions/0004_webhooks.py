"""Webhooks and their deliveries.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22
"""

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


STATEMENTS = [
    """
    CREATE TABLE webhooks (
        id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        client_id         bigint NOT NULL REFERENCES api_clients (id),
        url               text NOT NULL CHECK (url ~* '^https?://[^/?#]+'),
        events            text[] NOT NULL CHECK (cardinality(events) > 0),
        secret            text NOT NULL CHECK (length(secret) >= 32),
        created_at        timestamptz NOT NULL,
        first_failure_at  timestamptz,
        disabled_at       timestamptz,
        deleted_at        timestamptz,
        active            boolean NOT NULL
                          GENERATED ALWAYS AS (disabled_at IS NULL AND deleted_at IS NULL) STORED
    )
    """,
    "CREATE INDEX webhooks_client ON webhooks (client_id) WHERE deleted_at IS NULL",
    """
    CREATE TABLE webhook_deliveries (
        id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        event_id          uuid NOT NULL REFERENCES outbox_events (event_id),
        webhook_id        bigint NOT NULL REFERENCES webhooks (id),
        status            text NOT NULL DEFAULT 'PENDING'
                          CHECK (status IN ('PENDING', 'DELIVERED', 'FAILED')),
        attempts          integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        created_at        timestamptz NOT NULL,
        next_attempt_at   timestamptz,
        last_attempt_at   timestamptz,
        last_status_code  integer,
        last_error        text,
        delivered_at      timestamptz,
        -- One delivery per (event, webhook): a dispatcher run after a crash cannot double it.
        UNIQUE (event_id, webhook_id),
        CHECK ((status = 'PENDING') = (next_attempt_at IS NOT NULL)),
        CHECK ((status = 'DELIVERED') = (delivered_at IS NOT NULL))
    )
    """,
    """
    CREATE INDEX webhook_deliveries_due ON webhook_deliveries (next_attempt_at)
        WHERE status = 'PENDING'
    """,
    "CREATE INDEX webhook_deliveries_webhook ON webhook_deliveries (webhook_id, id)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE webhook_deliveries")
    op.execute("DROP TABLE webhooks")

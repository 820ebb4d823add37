"""Delivery receipts of campaign messages: the provider's message ID on each sent touch, and
what the provider's receipt said.

``provider_message_id`` is what the SMS provider or WeChat answered when the message was
accepted; receipts name it, so it is unique per channel (a partial index: touches that were
never sent have none). ``receipt_at`` is the time the provider reported, ``receipt_error``
the provider's error code of a failed delivery (kept apart from ``last_error``, which is the
hub's own sending trouble). The columns are nullable without a default: adding them rewrites
nothing.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-05
"""

from alembic import op

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None

STATEMENTS = [
    """
    ALTER TABLE campaign_touches
        ADD COLUMN provider_message_id text
            CHECK (length(provider_message_id) BETWEEN 1 AND 128),
        ADD COLUMN receipt_at timestamptz,
        ADD COLUMN receipt_error text CHECK (length(receipt_error) BETWEEN 1 AND 64)
    """,
    "CREATE UNIQUE INDEX campaign_touches_provider_message"
    " ON campaign_touches (channel, provider_message_id) WHERE provider_message_id IS NOT NULL",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX campaign_touches_provider_message")
    op.execute(
        "ALTER TABLE campaign_touches DROP COLUMN receipt_error, DROP COLUMN receipt_at,"
        " DROP COLUMN provider_message_id"
    )

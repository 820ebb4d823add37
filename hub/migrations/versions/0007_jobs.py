"""Scheduled jobs: the expiry reminders already sent.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

STATEMENTS: list[str] = [
    # One row per lot and threshold (30, 15, 7, 3 days): a reminder goes out at most once.
    """
    CREATE TABLE points_expiry_reminders (
        member_id  bigint NOT NULL REFERENCES members (id),
        entry_id   bigint NOT NULL,
        days       integer NOT NULL CHECK (days > 0),
        sent_at    timestamptz NOT NULL,
        PRIMARY KEY (member_id, entry_id, days),
        FOREIGN KEY (member_id, entry_id) REFERENCES points_lots (member_id, entry_id)
    )
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE points_expiry_reminders")

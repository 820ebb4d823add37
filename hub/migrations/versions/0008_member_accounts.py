"""Every member has a points account from enrolment: open the ones members lack.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-01
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

STATEMENTS: list[str] = [
    "INSERT INTO points_accounts (member_id) SELECT id FROM members ON CONFLICT DO NOTHING",
    """
    INSERT INTO points_balances (member_id, bucket)
    SELECT m.id, b FROM members m, unnest(ARRAY['PENDING', 'AVAILABLE', 'HELD']) AS b
    ON CONFLICT DO NOTHING
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    # Empty accounts are what a first posting opened before this revision: nothing to undo.
    pass

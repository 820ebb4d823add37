"""Identity: members, their identities, merges and review cases.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

CHANNELS = "('MINI_PROGRAM', 'WEB', 'POS', 'PARTNER', 'ADMIN')"

STATEMENTS = [
    f"""
    CREATE TABLE members (
        id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        status              text NOT NULL DEFAULT 'ACTIVE'
                            CHECK (status IN ('ACTIVE', 'MERGED', 'ERASED')),
        merged_into         bigint REFERENCES members (id),
        registered_channel  text NOT NULL CHECK (registered_channel IN {CHANNELS}),
        name                text,
        gender              text NOT NULL DEFAULT 'UNKNOWN'
                            CHECK (gender IN ('FEMALE', 'MALE', 'UNKNOWN')),
        birthday            date,
        region              text,
        created_at          timestamptz NOT NULL,
        updated_at          timestamptz NOT NULL,
        CHECK ((status = 'MERGED') = (merged_into IS NOT NULL)),
        CHECK (merged_into <> id)
    )
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE members")

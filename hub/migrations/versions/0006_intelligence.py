"""Member intelligence: RFM, lifecycle, tags, segments.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

RFM_SEGMENTS = (
    ("IMPORTANT_VALUE", "Important value", "Recent, frequent, high spend."),
    ("IMPORTANT_DEVELOP", "Important to develop", "Recent, infrequent, high spend."),
    ("IMPORTANT_KEEP", "Important to keep", "Not recent, frequent, high spend."),
    ("IMPORTANT_RETAIN", "Important to win back", "Not recent, infrequent, high spend."),
    ("GENERAL_VALUE", "General value", "Recent, frequent, low spend."),
    ("GENERAL_DEVELOP", "General to develop", "Recent, infrequent, low spend."),
    ("GENERAL_KEEP", "General to keep", "Not recent, frequent, low spend."),
    ("GENERAL_RETAIN", "General to win back", "Not recent, infrequent, low spend."),
)

STATEMENTS: list[str] = [
    """
    CREATE TABLE member_rfm (
        member_id     bigint PRIMARY KEY REFERENCES members (id),
        recency_days  integer NOT NULL CHECK (recency_days >= 0),
        frequency     integer NOT NULL CHECK (frequency > 0),
        monetary      numeric(14, 2) NOT NULL,
        r_score       smallint NOT NULL CHECK (r_score BETWEEN 1 AND 5),
        f_score       smallint NOT NULL CHECK (f_score BETWEEN 1 AND 5),
        m_score       smallint NOT NULL CHECK (m_score BETWEEN 1 AND 5),
        segment       text NOT NULL,
        computed_at   timestamptz NOT NULL
    )
    """,
    "CREATE INDEX member_rfm_segment ON member_rfm (segment)",
    """
    CREATE TABLE member_lifecycle (
        member_id    bigint PRIMARY KEY REFERENCES members (id),
        stage        text NOT NULL
                     CHECK (stage IN ('PROSPECT', 'NEW', 'ACTIVE', 'DORMANT', 'CHURNED')),
        computed_at  timestamptz NOT NULL
    )
    """,
    "CREATE INDEX member_lifecycle_stage ON member_lifecycle (stage)",
    """
    CREATE TABLE tags (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name          text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
        description   text,
        source        text NOT NULL CHECK (source IN ('RULE', 'MANUAL')),
        rule          jsonb,
        --  Built-in rule tags are computed by their own statement, named here.
        builtin       text,
        created_at    timestamptz NOT NULL,
        refreshed_at  timestamptz,
        CHECK ((source = 'RULE') = (rule IS NOT NULL OR builtin IS NOT NULL))
    )
    """,
    """
    CREATE TABLE member_tags (
        tag_id     bigint NOT NULL REFERENCES tags (id),
        member_id  bigint NOT NULL REFERENCES members (id),
        source     text NOT NULL CHECK (source IN ('RULE', 'MANUAL')),
        tagged_at  timestamptz NOT NULL,
        PRIMARY KEY (tag_id, member_id)
    )
    """,
    "CREATE INDEX member_tags_member ON member_tags (member_id)",
    """
    CREATE TABLE segments (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name          text NOT NULL UNIQUE CHECK (btrim(name) <> ''),
        description   text,
        kind          text NOT NULL CHECK (kind IN ('RULE', 'RFM', 'MANUAL')),
        rule          jsonb NOT NULL,
        created_at    timestamptz NOT NULL,
        refreshed_at  timestamptz
    )
    """,
    """
    CREATE TABLE segment_members (
        segment_id  bigint NOT NULL REFERENCES segments (id),
        member_id   bigint NOT NULL REFERENCES members (id),
        since       timestamptz NOT NULL,
        PRIMARY KEY (segment_id, member_id)
    )
    """,
    "CREATE INDEX segment_members_member ON segment_members (member_id)",
    "CREATE INDEX purchases_member_channel ON purchases (member_id, channel)",
    *(
        f"""
        INSERT INTO segments (name, description, kind, rule, created_at)
        VALUES ('RFM: {name}', '{description}', 'RFM',
                '{{"condition": {{"field": "RFM_SEGMENT", "op": "EQ", "values": ["{code}"]}}}}',
                now())
        """
        for code, name, description in RFM_SEGMENTS
    ),
    *(
        f"""
        INSERT INTO tags (name, description, source, builtin, created_at)
        VALUES ('{name}', '{description}', 'RULE', '{name}', now())
        """
        for name, description in (
            ("weekend-shopper", "Over 60% of purchases on Saturday or Sunday."),
            ("price-sensitive", "Over half of purchases with a promotion."),
            ("high-value", "3+ purchases in 30 days with an AOV in the top 20%."),
        )
    ),
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP INDEX purchases_member_channel")
    for table in (
        "segment_members",
        "segments",
        "member_tags",
        "tags",
        "member_lifecycle",
        "member_rfm",
    ):
        op.execute(f"DROP TABLE {table}")

"""Earning rules at run time: promotions, the tier ladder, the base rate, and each
purchase's points by cause.

``earning_rules`` is one row whose ``version`` grows on every change to the rules (a
promotion defined or ended, the ladder replaced), so each purchase records which rules
priced it. Without the row, or with an empty ladder, the settings' base rate and ladder
apply (a fresh install prices as before).

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-05
"""

from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

DAYS = ", ".join(str(d) for d in range(1, 32))
CHANNELS = "ARRAY['MINI_PROGRAM', 'WEB', 'POS', 'PARTNER', 'ADMIN']"

STATEMENTS = [
    """
    CREATE TABLE earning_rules (
        id              smallint PRIMARY KEY CHECK (id = 1),
        version         bigint NOT NULL CHECK (version > 0),
        points_per_100  integer CHECK (points_per_100 BETWEEN 0 AND 100000),
        changed_at      timestamptz NOT NULL
    )
    """,
    f"""
    CREATE TABLE promotions (
        id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name                  text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 100),
        kind                  text NOT NULL CHECK (kind IN ('MULTIPLIER', 'BONUS_POINTS')),
        value                 numeric(14, 2) NOT NULL,
        days_of_month         integer[] NOT NULL DEFAULT '{{}}'
                              CHECK (days_of_month <@ ARRAY[{DAYS}]),
        days_of_week          integer[] NOT NULL DEFAULT '{{}}'
                              CHECK (days_of_week <@ ARRAY[1, 2, 3, 4, 5, 6, 7]),
        birthday_window_days  integer CHECK (birthday_window_days BETWEEN 0 AND 31),
        tier_codes            text[] NOT NULL DEFAULT '{{}}',
        segment_id            bigint REFERENCES segments (id),
        categories            text[] NOT NULL DEFAULT '{{}}',
        skus                  text[] NOT NULL DEFAULT '{{}}',
        channels              text[] NOT NULL DEFAULT '{{}}' CHECK (channels <@ {CHANNELS}),
        store_ids             text[] NOT NULL DEFAULT '{{}}',
        nth_purchase          integer CHECK (nth_purchase BETWEEN 1 AND 1000),
        starts_at             timestamptz NOT NULL,
        ends_at               timestamptz,
        stackable             boolean NOT NULL,
        created_at            timestamptz NOT NULL,
        created_by            text NOT NULL,
        CHECK (ends_at IS NULL OR ends_at > starts_at),
        CHECK (CASE kind
            WHEN 'MULTIPLIER' THEN value > 1 AND value <= 10
            ELSE value >= 1 AND value <= 100000 AND value = trunc(value) END)
    )
    """,
    "CREATE INDEX promotions_running ON promotions (starts_at, ends_at)",
    """
    CREATE TABLE tier_ladder (
        position     integer PRIMARY KEY CHECK (position BETWEEN 0 AND 19),
        code         text NOT NULL UNIQUE CHECK (code ~ '^[A-Z][A-Z0-9_]{0,31}$'),
        name         text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 100),
        threshold    numeric(14, 2) NOT NULL CHECK (threshold >= 0),
        multiplier   numeric(6, 2) NOT NULL CHECK (multiplier > 0 AND multiplier <= 10),
        pay_percent  numeric(5, 2) CHECK (pay_percent > 0 AND pay_percent <= 100),
        perks        text[] NOT NULL DEFAULT '{}',
        CHECK (position > 0 OR threshold = 0)
    )
    """,
    """
    CREATE TABLE purchase_points (
        purchase_id   bigint NOT NULL REFERENCES purchases (id),
        line_no       smallint NOT NULL,
        cause         text NOT NULL CHECK (cause ~ '^(BASE|TIER|PROMOTION:.+|COUPON:.+)$'),
        points        integer NOT NULL,
        promotion_id  bigint REFERENCES promotions (id),
        PRIMARY KEY (purchase_id, line_no),
        CHECK ((promotion_id IS NOT NULL) = (cause LIKE 'PROMOTION:%'))
    )
    """,
    "CREATE INDEX purchase_points_promotion ON purchase_points (promotion_id)"
    " WHERE promotion_id IS NOT NULL",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE purchase_points")
    op.execute("DROP TABLE tier_ladder")
    op.execute("DROP TABLE promotions")
    op.execute("DROP TABLE earning_rules")

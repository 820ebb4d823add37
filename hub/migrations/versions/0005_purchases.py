"""Purchases: stores, staff, purchases with items, refunds, fraud reviews, tier history.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

CHANNELS = "('MINI_PROGRAM', 'WEB', 'POS', 'PARTNER', 'ADMIN')"

STATEMENTS = [
    """
    CREATE TABLE stores (
        id          text PRIMARY KEY CHECK (btrim(id) <> ''),
        name        text,
        city        text,
        time_zone   text NOT NULL DEFAULT 'Asia/Shanghai',
        created_at  timestamptz NOT NULL DEFAULT now()
    )
    """,
    """
    CREATE TABLE staff (
        operator_id  text PRIMARY KEY CHECK (btrim(operator_id) <> ''),
        member_id    bigint NOT NULL REFERENCES members (id),
        store_id     text REFERENCES stores (id),
        created_at   timestamptz NOT NULL DEFAULT now()
    )
    """,
    "CREATE INDEX staff_member ON staff (member_id)",
    f"""
    CREATE TABLE purchases (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        member_id        bigint REFERENCES members (id),
        store_id         text NOT NULL REFERENCES stores (id),
        receipt_no       text NOT NULL CHECK (btrim(receipt_no) <> ''),
        channel          text NOT NULL CHECK (channel IN {CHANNELS}),
        operator_id      text,
        amount           numeric(14, 2) NOT NULL CHECK (amount >= 0),
        refunded_amount  numeric(14, 2) NOT NULL DEFAULT 0,
        occurred_at      timestamptz NOT NULL,
        recorded_at      timestamptz NOT NULL,
        points_earned    integer NOT NULL DEFAULT 0,
        status           text NOT NULL CHECK (status IN
                             ('COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED', 'HELD', 'REJECTED')),
        has_promotion    boolean NOT NULL DEFAULT false,
        content_hash     bytea NOT NULL,
        --  The earning rules that priced it, so a later rule change never reprices history.
        rule_version     text NOT NULL,
        tier_code        text,
        business_day     date NOT NULL,
        review_id        bigint,
        fraud_reasons    text[] NOT NULL DEFAULT '{{}}',
        UNIQUE (store_id, receipt_no),
        CHECK (refunded_amount >= 0 AND refunded_amount <= amount)
    )
    """,
    "CREATE INDEX purchases_member_time ON purchases (member_id, occurred_at)",
    "CREATE INDEX purchases_time ON purchases (occurred_at)",
    """
    CREATE TABLE purchase_items (
        purchase_id  bigint NOT NULL REFERENCES purchases (id),
        line_no      integer NOT NULL,
        member_id    bigint,
        sku          text NOT NULL CHECK (btrim(sku) <> ''),
        category     text,
        quantity     integer NOT NULL CHECK (quantity > 0),
        unit_price   numeric(14, 2) NOT NULL CHECK (unit_price >= 0),
        PRIMARY KEY (purchase_id, line_no)
    )
    """,
    "CREATE INDEX purchase_items_member ON purchase_items (member_id)",
    """
    CREATE TABLE refunds (
        id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        purchase_id         bigint NOT NULL REFERENCES purchases (id),
        member_id           bigint,
        store_id            text NOT NULL,
        refund_no           text NOT NULL CHECK (btrim(refund_no) <> ''),
        amount              numeric(14, 2) NOT NULL CHECK (amount > 0),
        occurred_at         timestamptz NOT NULL,
        recorded_at         timestamptz NOT NULL,
        points_clawed_back  integer NOT NULL DEFAULT 0 CHECK (points_clawed_back >= 0),
        UNIQUE (store_id, refund_no)
    )
    """,
    "CREATE INDEX refunds_purchase ON refunds (purchase_id)",
    """
    CREATE TABLE fraud_reviews (
        id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        member_id   bigint NOT NULL REFERENCES members (id),
        status      text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'APPROVED', 'REJECTED')),
        operation   text NOT NULL,
        reasons     text[] NOT NULL CHECK (cardinality(reasons) > 0),
        summary     text NOT NULL,
        --  The held entries (credits in the HELD bucket) the decision releases or cancels.
        entry_ids   bigint[] NOT NULL,
        created_at  timestamptz NOT NULL,
        decided_at  timestamptz,
        decided_by  text,
        note        text,
        CHECK ((status = 'OPEN') = (decided_at IS NULL)),
        CHECK ((status = 'OPEN') = (decided_by IS NULL))
    )
    """,
    "CREATE INDEX fraud_reviews_status ON fraud_reviews (status, id)",
    "CREATE INDEX fraud_reviews_member ON fraud_reviews (member_id)",
    """
    ALTER TABLE purchases ADD CONSTRAINT purchases_review
        FOREIGN KEY (review_id) REFERENCES fraud_reviews (id)
    """,
    """
    CREATE TABLE purchase_merge_moves (
        merge_id      bigint PRIMARY KEY REFERENCES member_merges (id),
        purchase_ids  bigint[] NOT NULL,
        refund_ids    bigint[] NOT NULL
    )
    """,
    """
    CREATE TABLE member_tiers (
        member_id  bigint NOT NULL REFERENCES members (id),
        tier_code  text NOT NULL,
        since      timestamptz NOT NULL,
        until      timestamptz,
        reason     text NOT NULL CHECK (reason IN ('UPGRADE', 'REVIEW', 'MERGE', 'UNMERGE')),
        PRIMARY KEY (member_id, since),
        CHECK (until IS NULL OR until > since)
    )
    """,
    # One current tier per member; the history answers "tier at the time of a purchase".
    "CREATE UNIQUE INDEX member_tiers_current ON member_tiers (member_id) WHERE until IS NULL",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    tables = (
        "member_tiers",
        "purchase_merge_moves",
        "refunds",
        "purchase_items",
        "purchases",
        "fraud_reviews",
        "staff",
        "stores",
    )
    for table in tables:
        op.execute(f"DROP TABLE {table}")

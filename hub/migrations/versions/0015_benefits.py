"""Benefits: coupon templates, coupons, the coupon event ledger, benefit request keys.

A coupon's ``status`` is the projection of its events; ``coupon_events`` is append-only
like ``ledger_entries``. Coupons never touch the points tables.

Revision ID: 0015
Revises: 0012
Create Date: 2026-12-05
"""

from alembic import op

revision = "0015"
down_revision = "0012"
branch_labels = None
depends_on = None

KINDS = "('CASH_OFF', 'PERCENT_OFF', 'GIFT', 'POINTS_MULTIPLIER', 'FREE_SHIPPING')"
STATUSES = "('ACTIVE', 'REDEEMED', 'EXPIRED', 'VOID')"
SOURCES = "('MANUAL', 'REWARD', 'BIRTHDAY', 'REFERRAL', 'CAMPAIGN')"
EVENTS = "('ISSUED', 'REDEEMED', 'EXPIRED', 'VOIDED', 'RETURNED')"
CHANNELS = "ARRAY['MINI_PROGRAM', 'WEB', 'POS', 'PARTNER', 'ADMIN']"

STATEMENTS = [
    f"""
    CREATE TABLE coupon_templates (
        id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        code              text NOT NULL UNIQUE CHECK (btrim(code) <> ''),
        name              text NOT NULL CHECK (btrim(name) <> ''),
        kind              text NOT NULL CHECK (kind IN {KINDS}),
        value             numeric(14, 2),
        min_spend         numeric(14, 2) CHECK (min_spend > 0),
        categories        text[] NOT NULL DEFAULT '{{}}',
        channels          text[] NOT NULL DEFAULT '{{}}' CHECK (channels <@ {CHANNELS}),
        store_ids         text[] NOT NULL DEFAULT '{{}}',
        valid_days        integer NOT NULL CHECK (valid_days > 0),
        valid_from        timestamptz,
        valid_until       timestamptz,
        stock             integer CHECK (stock >= 0),
        per_member_limit  integer CHECK (per_member_limit > 0),
        points_price      integer CHECK (points_price > 0),
        active            boolean NOT NULL DEFAULT true,
        created_at        timestamptz NOT NULL,
        created_by        text NOT NULL,
        CHECK (valid_from IS NULL OR valid_until IS NULL OR valid_from < valid_until),
        CHECK (CASE kind
            WHEN 'CASH_OFF' THEN value > 0
            WHEN 'PERCENT_OFF' THEN value > 0 AND value < 100
            WHEN 'POINTS_MULTIPLIER' THEN value > 1
            ELSE value IS NULL END)
    )
    """,
    f"""
    CREATE TABLE coupons (
        id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        member_id             bigint NOT NULL REFERENCES members (id),
        template_id           bigint NOT NULL REFERENCES coupon_templates (id),
        code                  text NOT NULL CHECK (code ~ '^[0-9A-HJKMNP-TV-Z]{{16}}$'),
        status                text NOT NULL CHECK (status IN {STATUSES}),
        source                text NOT NULL CHECK (source IN {SOURCES}),
        reason                text,
        issued_at             timestamptz NOT NULL,
        valid_from            timestamptz NOT NULL,
        valid_until           timestamptz NOT NULL,
        redeemed_at           timestamptz,
        redeemed_purchase_id  bigint,
        status_changed_at     timestamptz NOT NULL,
        CONSTRAINT coupons_code_unique UNIQUE (code),
        CHECK (valid_from >= issued_at AND valid_until > valid_from),
        CHECK ((status = 'REDEEMED') = (redeemed_at IS NOT NULL)),
        CHECK (redeemed_purchase_id IS NULL OR status = 'REDEEMED')
    )
    """,
    "CREATE INDEX coupons_wallet ON coupons (member_id, id DESC)",
    # Per-member limits count a member's live coupons of one template.
    """
    CREATE INDEX coupons_live_by_member ON coupons (template_id, member_id)
        WHERE status = 'ACTIVE'
    """,
    "CREATE INDEX coupons_template_status ON coupons (template_id, status)",
    "CREATE INDEX coupons_expiring ON coupons (valid_until) WHERE status = 'ACTIVE'",
    f"""
    CREATE TABLE coupon_events (
        id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        coupon_id    bigint NOT NULL REFERENCES coupons (id),
        member_id    bigint NOT NULL,
        kind         text NOT NULL CHECK (kind IN {EVENTS}),
        at           timestamptz NOT NULL,
        purchase_id  bigint,
        actor        text,
        reason       text
    )
    """,
    "CREATE INDEX coupon_events_coupon ON coupon_events (coupon_id, id)",
    """
    CREATE FUNCTION coupon_events_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'coupon_events is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER coupon_events_no_update_delete
        BEFORE UPDATE OR DELETE ON coupon_events
        FOR EACH ROW EXECUTE FUNCTION coupon_events_append_only()
    """,
    """
    CREATE TRIGGER coupon_events_no_truncate
        BEFORE TRUNCATE ON coupon_events
        FOR EACH STATEMENT EXECUTE FUNCTION coupon_events_append_only()
    """,
    # Idempotency of issueCoupons and exchangeReward: the first outcome, replayed.
    """
    CREATE TABLE coupon_requests (
        scope         text NOT NULL,
        key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
        fingerprint   bytea NOT NULL,
        operation     text NOT NULL CHECK (operation IN ('ISSUE', 'EXCHANGE')),
        template_id   bigint NOT NULL REFERENCES coupon_templates (id),
        issued        integer,
        skipped       integer,
        coupon_id     bigint REFERENCES coupons (id),
        points_spent  integer,
        created_at    timestamptz NOT NULL,
        PRIMARY KEY (scope, key)
    )
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE coupon_requests")
    op.execute("DROP TABLE coupon_events")
    op.execute("DROP FUNCTION coupon_events_append_only()")
    op.execute("DROP TABLE coupons")
    op.execute("DROP TABLE coupon_templates")

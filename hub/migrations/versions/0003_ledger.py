"""Points ledger: append-only entries, balances, lots, idempotency keys, programme claims.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

CHANNELS = "('MINI_PROGRAM', 'WEB', 'POS', 'PARTNER', 'ADMIN')"
KINDS = (
    "('EARN', 'BONUS', 'SETTLE', 'REDEEM', 'EXPIRE', 'ADJUST', 'REVERSAL', 'CLAWBACK',"
    " 'MERGE_IN', 'MERGE_OUT')"
)
BUCKETS = "('PENDING', 'AVAILABLE', 'HELD')"

#: Tables whose rows are history: the app role may only add and read them.
APPEND_ONLY = (
    "ledger_entries",
    "points_signup_bonuses",
    "points_referrals",
    "points_checkins",
    "points_merge_moves",
)

STATEMENTS = [
    # The chain head and lifetime total of each member: the row the posting path locks.
    """
    CREATE TABLE points_accounts (
        member_id        bigint PRIMARY KEY REFERENCES members (id),
        last_seq         integer NOT NULL DEFAULT 0 CHECK (last_seq >= 0),
        head_hash        bytea NOT NULL DEFAULT '\\x'::bytea,
        lifetime_earned  integer NOT NULL DEFAULT 0
    )
    """,
    # The balances projection. Available may be negative only right after a CLAWBACK or a
    # MERGE_IN of a debt, or while a credit pays a debt down: never after a REDEEM.
    f"""
    CREATE TABLE points_balances (
        member_id    bigint NOT NULL REFERENCES members (id),
        bucket       text NOT NULL CHECK (bucket IN {BUCKETS}),
        balance      integer NOT NULL DEFAULT 0,
        last_kind    text CHECK (last_kind IN {KINDS}),
        last_amount  integer,
        PRIMARY KEY (member_id, bucket),
        CHECK (bucket = 'AVAILABLE' OR balance >= 0),
        CHECK (balance >= 0 OR last_amount > 0 OR last_kind IN ('CLAWBACK', 'MERGE_IN'))
    )
    """,
    f"""
    CREATE TABLE ledger_entries (
        id               bigint GENERATED ALWAYS AS IDENTITY,
        member_id        bigint NOT NULL REFERENCES members (id),
        seq              integer NOT NULL CHECK (seq > 0),
        kind             text NOT NULL CHECK (kind IN {KINDS}),
        bucket           text NOT NULL CHECK (bucket IN {BUCKETS}),
        amount           integer NOT NULL CHECK (amount <> 0),
        balance_after    integer NOT NULL,
        channel          text NOT NULL CHECK (channel IN {CHANNELS}),
        store_id         text,
        reference        text,
        reason           text,
        idempotency_key  text,
        expires_at       timestamptz,
        available_at     timestamptz,
        reverses_id      bigint,
        consumes_lot     bigint,
        held_for         text CHECK (held_for IN ('PENDING', 'AVAILABLE')),
        hold_reasons     text[],
        created_at       timestamptz NOT NULL,
        prev_hash        bytea NOT NULL,
        hash             bytea NOT NULL CHECK (length(hash) = 32),
        PRIMARY KEY (member_id, id),
        UNIQUE (member_id, seq),
        CHECK ((bucket = 'HELD') = (held_for IS NOT NULL))
    )
    """,
    "CREATE UNIQUE INDEX ledger_entries_id ON ledger_entries (id)",
    "CREATE INDEX ledger_entries_member_kind ON ledger_entries (member_id, kind, seq)",
    """
    CREATE FUNCTION ledger_entries_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        RAISE EXCEPTION 'ledger_entries is append-only: % is not allowed', TG_OP
            USING ERRCODE = 'insufficient_privilege';
    END
    $$
    """,
    """
    CREATE TRIGGER ledger_entries_no_update_delete
        BEFORE UPDATE OR DELETE ON ledger_entries
        FOR EACH ROW EXECUTE FUNCTION ledger_entries_append_only()
    """,
    """
    CREATE TRIGGER ledger_entries_no_truncate
        BEFORE TRUNCATE ON ledger_entries
        FOR EACH STATEMENT EXECUTE FUNCTION ledger_entries_append_only()
    """,
    # Each credit to PENDING or AVAILABLE is a lot, named by the entry that made it.
    """
    CREATE TABLE points_lots (
        member_id     bigint NOT NULL REFERENCES members (id),
        entry_id      bigint NOT NULL,
        bucket        text NOT NULL CHECK (bucket IN ('PENDING', 'AVAILABLE')),
        amount        integer NOT NULL CHECK (amount > 0),
        remaining     integer NOT NULL CHECK (remaining >= 0 AND remaining <= amount),
        expires_at    timestamptz,
        available_at  timestamptz,
        PRIMARY KEY (member_id, entry_id),
        CHECK ((bucket = 'AVAILABLE') = (expires_at IS NOT NULL))
    )
    """,
    """
    CREATE INDEX points_lots_open ON points_lots (member_id, bucket, expires_at, entry_id)
        WHERE remaining > 0
    """,
    """
    CREATE INDEX points_lots_expiring ON points_lots (expires_at)
        WHERE remaining > 0 AND bucket = 'AVAILABLE'
    """,
    """
    CREATE INDEX points_lots_settling ON points_lots (available_at)
        WHERE remaining > 0 AND bucket = 'PENDING'
    """,
    """
    CREATE TABLE points_idempotency_keys (
        scope        text NOT NULL,
        key          text NOT NULL CHECK (length(key) BETWEEN 1 AND 200),
        fingerprint  bytea NOT NULL,
        member_id    bigint,
        outcome      jsonb,
        created_at   timestamptz NOT NULL,
        expires_at   timestamptz NOT NULL,
        PRIMARY KEY (scope, key)
    )
    """,
    "CREATE INDEX points_idempotency_keys_expiry ON points_idempotency_keys (expires_at)",
    # Once per phone ever, and once per member: the sign-up bonus cannot be farmed.
    """
    CREATE TABLE points_signup_bonuses (
        phone_hash  text PRIMARY KEY,
        member_id   bigint NOT NULL UNIQUE REFERENCES members (id),
        created_at  timestamptz NOT NULL
    )
    """,
    """
    CREATE TABLE points_referrals (
        member_id    bigint PRIMARY KEY REFERENCES members (id),
        referrer_id  bigint NOT NULL REFERENCES members (id),
        created_at   timestamptz NOT NULL,
        CHECK (referrer_id <> member_id)
    )
    """,
    f"""
    CREATE TABLE points_checkins (
        member_id     bigint NOT NULL REFERENCES members (id),
        business_day  date NOT NULL,
        entry_id      bigint NOT NULL,
        channel       text NOT NULL CHECK (channel IN {CHANNELS}),
        created_at    timestamptz NOT NULL,
        PRIMARY KEY (member_id, business_day)
    )
    """,
    # What a merge moved and what its undoing gave back; the unique keys make both once-only.
    """
    CREATE TABLE points_merge_moves (
        member_id     bigint NOT NULL REFERENCES members (id),
        merge_id      bigint NOT NULL,
        direction     text NOT NULL CHECK (direction IN ('MERGE', 'UNMERGE')),
        counterpart   bigint NOT NULL REFERENCES members (id),
        available     integer NOT NULL,
        pending       integer NOT NULL CHECK (pending >= 0),
        unreturned    integer NOT NULL DEFAULT 0 CHECK (unreturned >= 0),
        created_at    timestamptz NOT NULL,
        PRIMARY KEY (merge_id, direction)
    )
    """,
    "CREATE INDEX points_merge_moves_member ON points_merge_moves (member_id)",
]

REVOKE_FROM_APP_ROLE = f"""
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'memberhub_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON {", ".join(APPEND_ONLY)} FROM memberhub_app;
        GRANT SELECT, INSERT ON {", ".join(APPEND_ONLY)} TO memberhub_app;
    END IF;
END
$$
"""


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
    op.execute(REVOKE_FROM_APP_ROLE)


def downgrade() -> None:
    for table in (
        "points_merge_moves",
        "points_checkins",
        "points_referrals",
        "points_signup_bonuses",
        "points_idempotency_keys",
        "points_lots",
        "ledger_entries",
        "points_balances",
        "points_accounts",
    ):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP FUNCTION ledger_entries_append_only()")

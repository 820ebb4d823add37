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
IDENTITY_TYPES = (
    "('PHONE', 'WECHAT_OPENID', 'WECHAT_UNIONID', 'POS_CARD', 'EMAIL', 'WEB_ACCOUNT', 'PARTNER_ID')"
)

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
    "CREATE INDEX members_merged_into ON members (merged_into) WHERE merged_into IS NOT NULL",
    "CREATE INDEX members_listed ON members (registered_channel, id) WHERE status <> 'MERGED'",
    f"""
    CREATE TABLE member_identities (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        member_id     bigint NOT NULL REFERENCES members (id),
        type          text NOT NULL CHECK (type IN {IDENTITY_TYPES}),
        namespace     text CHECK (namespace IS NULL OR btrim(namespace) <> ''),
        value         text NOT NULL CHECK (btrim(value) <> ''),
        verified      boolean NOT NULL DEFAULT false,
        channel       text NOT NULL CHECK (channel IN {CHANNELS}),
        linked_at     timestamptz NOT NULL,
        last_seen_at  timestamptz NOT NULL,
        CHECK (type NOT IN ('WECHAT_OPENID', 'POS_CARD', 'PARTNER_ID') OR namespace IS NOT NULL),
        CHECK (type NOT IN ('PHONE', 'EMAIL') OR namespace IS NULL),
        CONSTRAINT member_identities_key UNIQUE NULLS NOT DISTINCT (type, namespace, value)
    )
    """,
    "CREATE INDEX member_identities_member ON member_identities (member_id, id)",
    # Identities belong to ACTIVE members only: a merged member's moved to its survivor,
    # an erased member's were deleted. The services keep this; the triggers refuse a slip.
    """
    CREATE FUNCTION member_identities_owner_active() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF (SELECT status FROM members WHERE id = NEW.member_id) <> 'ACTIVE' THEN
            RAISE EXCEPTION 'identity % would belong to member %, which is not ACTIVE',
                NEW.id, NEW.member_id USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER member_identities_owner_active
    BEFORE INSERT OR UPDATE OF member_id ON member_identities
    FOR EACH ROW EXECUTE FUNCTION member_identities_owner_active()
    """,
    """
    CREATE FUNCTION members_inactive_without_identities() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        IF NEW.status <> 'ACTIVE'
           AND EXISTS (SELECT 1 FROM member_identities WHERE member_id = NEW.id) THEN
            RAISE EXCEPTION 'member % still holds identities and cannot become %',
                NEW.id, NEW.status USING ERRCODE = 'check_violation';
        END IF;
        RETURN NEW;
    END
    $$
    """,
    """
    CREATE TRIGGER members_inactive_without_identities
    BEFORE UPDATE OF status ON members
    FOR EACH ROW EXECUTE FUNCTION members_inactive_without_identities()
    """,
    """
    CREATE TABLE member_merges (
        id                    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        survivor_id           bigint NOT NULL REFERENCES members (id),
        merged_id             bigint NOT NULL REFERENCES members (id),
        reason                text NOT NULL CHECK (btrim(reason) <> ''),
        evidence_identity_id  bigint REFERENCES member_identities (id) ON DELETE SET NULL,
        actor                 text NOT NULL,
        moved_identity_ids    bigint[] NOT NULL DEFAULT '{}',
        filled_fields         text[] NOT NULL DEFAULT '{}',
        created_at            timestamptz NOT NULL,
        undone_at             timestamptz,
        undone_by             text,
        undo_reason           text,
        CHECK (survivor_id <> merged_id),
        CHECK ((undone_at IS NULL) = (undone_by IS NULL)),
        CHECK ((undone_at IS NULL) = (undo_reason IS NULL)),
        CHECK (filled_fields <@ ARRAY['name', 'gender', 'birthday', 'region'])
    )
    """,
    # A member is folded into at most one survivor at a time.
    """
    CREATE UNIQUE INDEX member_merges_one_live ON member_merges (merged_id)
    WHERE undone_at IS NULL
    """,
    "CREATE INDEX member_merges_survivor ON member_merges (survivor_id, id)",
    f"""
    CREATE TABLE identity_reviews (
        id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        status        text NOT NULL DEFAULT 'OPEN' CHECK (status IN ('OPEN', 'RESOLVED')),
        reason        text NOT NULL CHECK (btrim(reason) <> ''),
        member_ids    bigint[] NOT NULL CHECK (cardinality(member_ids) >= 1),
        identity_ids  bigint[] NOT NULL,
        channel       text NOT NULL CHECK (channel IN {CHANNELS}),
        actor         text NOT NULL,
        occurrences   integer NOT NULL DEFAULT 1 CHECK (occurrences >= 1),
        created_at    timestamptz NOT NULL,
        last_seen_at  timestamptz NOT NULL,
        resolved_at   timestamptz,
        CHECK ((status = 'RESOLVED') = (resolved_at IS NOT NULL))
    )
    """,
    # The same conflict seen again counts on its open case instead of opening another.
    """
    CREATE UNIQUE INDEX identity_reviews_open_case ON identity_reviews (member_ids, reason)
    WHERE status = 'OPEN'
    """,
    """
    CREATE TABLE erased_phones (
        phone_hash  text PRIMARY KEY CHECK (phone_hash ~ '^[0-9a-f]{64}$'),
        erased_at   timestamptz NOT NULL
    )
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    for table in ("erased_phones", "identity_reviews", "member_merges", "member_identities"):
        op.execute(f"DROP TABLE {table}")
    op.execute("DROP TABLE members")
    op.execute("DROP FUNCTION members_inactive_without_identities()")
    op.execute("DROP FUNCTION member_identities_owner_active()")

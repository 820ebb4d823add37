"""Raw-identity lookups need their own scope; referral bonuses wait for a verified referee
and are capped per referrer; unmerge gives manual tags back.

- ``members:lookup`` is granted to every POS client that exists, as new POS clients get it
  by default: tills keep looking members up by card and phone, partners do not.
- ``points_referral_claims``: a referral named at sign-up, not yet paid. The bonus is paid
  (``points_referrals``) once the referee holds a verified identity; ``referrer_paid`` says
  whether the referrer's half was paid or the referrer had reached the cap.
- ``member_tag_merge_moves``: the merged member's manual tags, and whether the merge added
  each to the survivor, so that unmerge returns them and takes back only what it added.
- ``purchase_buyer_identities``: the identities a channel named the buyer of a purchase by,
  so that unmerge gives a member back the purchases made with its own card or phone while
  the merge stood.

Revision ID: 0012
Revises: 0010
Create Date: 2026-12-05
"""

from alembic import op

revision = "0012"
down_revision = "0010"
branch_labels = None
depends_on = None

STATEMENTS = [
    """
    UPDATE api_clients SET scopes = array_append(scopes, 'members:lookup')
    WHERE kind = 'pos' AND NOT ('members:lookup' = ANY (scopes))
    """,
    """
    CREATE TABLE points_referral_claims (
        member_id    bigint PRIMARY KEY REFERENCES members (id),
        referrer_id  bigint NOT NULL REFERENCES members (id),
        created_at   timestamptz NOT NULL,
        CHECK (referrer_id <> member_id)
    )
    """,
    "ALTER TABLE points_referrals ADD COLUMN referrer_paid boolean NOT NULL DEFAULT true",
    """
    CREATE INDEX points_referrals_referrer ON points_referrals (referrer_id, created_at)
        WHERE referrer_paid
    """,
    """
    CREATE TABLE member_tag_merge_moves (
        merge_id           bigint NOT NULL REFERENCES member_merges (id),
        tag_id             bigint NOT NULL REFERENCES tags (id),
        tagged_at          timestamptz NOT NULL,
        added_to_survivor  boolean NOT NULL,
        PRIMARY KEY (merge_id, tag_id)
    )
    """,
    """
    CREATE TABLE purchase_buyer_identities (
        purchase_id   bigint PRIMARY KEY REFERENCES purchases (id),
        identity_ids  bigint[] NOT NULL
    )
    """,
]

REVOKE_FROM_APP_ROLE = """
DO $$
BEGIN
    IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'memberhub_app') THEN
        REVOKE UPDATE, DELETE, TRUNCATE ON points_referral_claims FROM memberhub_app;
        GRANT SELECT, INSERT ON points_referral_claims TO memberhub_app;
        GRANT SELECT, INSERT ON member_tag_merge_moves, purchase_buyer_identities
            TO memberhub_app;
    END IF;
END
$$
"""


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)
    op.execute(REVOKE_FROM_APP_ROLE)


def downgrade() -> None:
    op.execute("DROP TABLE purchase_buyer_identities")
    op.execute("DROP TABLE member_tag_merge_moves")
    op.execute("DROP INDEX points_referrals_referrer")
    op.execute("ALTER TABLE points_referrals DROP COLUMN referrer_paid")
    op.execute("DROP TABLE points_referral_claims")
    op.execute(
        "UPDATE api_clients SET scopes = array_remove(scopes, 'members:lookup') WHERE kind = 'pos'"
    )

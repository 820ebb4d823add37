"""Campaigns: arms, per-member touches (assignment and outcome), marketing consent.

``campaign_touches`` holds one row per (campaign, member), written when the member is
assigned to an arm and before any action: the unique key is what makes every action happen
at most once per member and campaign, however often the evaluation job runs.

Revision ID: 0017
Revises: 0015
Create Date: 2026-12-05
"""

from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None

TRIGGERS = (
    "('ONCE', 'SEGMENT_ENTERED', 'BIRTHDAY', 'INACTIVE_DAYS', 'POINTS_EXPIRING',"
    " 'TIER_UPGRADED', 'DAYS_AFTER_PURCHASE')"
)
STATUSES = "('DRAFT', 'RUNNING', 'PAUSED', 'FINISHED')"
CHANNELS = "('WECHAT_SUBSCRIBE', 'SMS', 'WEBHOOK')"
OUTCOMES = (
    "('PENDING', 'SENT', 'DELIVERED', 'FAILED', 'SKIPPED_NO_CONSENT', 'SKIPPED_QUIET_HOURS',"
    " 'HOLDOUT', 'DONE')"
)

STATEMENTS = [
    f"""
    CREATE TABLE campaigns (
        id                      bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name                    text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 200),
        status                  text NOT NULL DEFAULT 'DRAFT' CHECK (status IN {STATUSES}),
        audience_segment_id     bigint REFERENCES segments (id),
        trigger                 text NOT NULL CHECK (trigger IN {TRIGGERS}),
        trigger_days            integer CHECK (trigger_days BETWEEN 0 AND 3650),
        trigger_category        text CHECK (length(trigger_category) <= 100),
        starts_at               timestamptz NOT NULL,
        ends_at                 timestamptz CHECK (ends_at > starts_at),
        frequency_cap_days      integer NOT NULL CHECK (frequency_cap_days BETWEEN 0 AND 3650),
        conversion_window_days  integer NOT NULL
                                CHECK (conversion_window_days BETWEEN 1 AND 365),
        created_by              text NOT NULL,
        created_at              timestamptz NOT NULL,
        started_at              timestamptz,
        CHECK (trigger IN ('ONCE', 'SEGMENT_ENTERED', 'TIER_UPGRADED')
               OR trigger_days IS NOT NULL),
        CHECK (trigger <> 'SEGMENT_ENTERED' OR audience_segment_id IS NOT NULL)
    )
    """,
    f"""
    CREATE TABLE campaign_arms (
        campaign_id         bigint NOT NULL REFERENCES campaigns (id),
        position            smallint NOT NULL CHECK (position BETWEEN 0 AND 19),
        name                text NOT NULL CHECK (btrim(name) <> '' AND length(name) <= 100),
        weight              integer NOT NULL CHECK (weight BETWEEN 1 AND 10000),
        coupon_template_id  bigint REFERENCES coupon_templates (id),
        award_points        integer CHECK (award_points BETWEEN 1 AND 1000000),
        message_channel     text CHECK (message_channel IN {CHANNELS}),
        message_template_id text CHECK (length(message_template_id) <= 200),
        message_data        jsonb NOT NULL DEFAULT '[]',
        PRIMARY KEY (campaign_id, position),
        UNIQUE (campaign_id, name),
        CHECK ((message_channel IS NULL) = (message_template_id IS NULL))
    )
    """,
    f"""
    CREATE TABLE campaign_touches (
        id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        campaign_id      bigint NOT NULL,
        -- No foreign key to members: a campaign assigns a million rows at once, and the
        -- per-row checks cost more than the assignment (members are never deleted).
        member_id        bigint NOT NULL,
        arm_position     smallint NOT NULL,
        assigned_at      timestamptz NOT NULL,
        outcome          text NOT NULL CHECK (outcome IN {OUTCOMES}),
        channel          text CHECK (channel IN {CHANNELS}),
        reached_at       timestamptz,
        coupon_id        bigint,
        points_awarded   integer NOT NULL DEFAULT 0 CHECK (points_awarded >= 0),
        attempts         integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
        next_attempt_at  timestamptz,
        last_error       text,
        UNIQUE (campaign_id, member_id),
        FOREIGN KEY (campaign_id, arm_position) REFERENCES campaign_arms (campaign_id, position)
    )
    """,
    "CREATE INDEX campaign_touches_due ON campaign_touches (next_attempt_at)"
    " WHERE next_attempt_at IS NOT NULL",
    "CREATE INDEX campaign_touches_member ON campaign_touches (member_id, reached_at)",
    f"""
    CREATE TABLE member_consents (
        member_id   bigint NOT NULL REFERENCES members (id),
        channel     text NOT NULL CHECK (channel IN {CHANNELS}),
        granted     boolean NOT NULL,
        updated_at  timestamptz NOT NULL,
        PRIMARY KEY (member_id, channel)
    )
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE member_consents")
    op.execute("DROP TABLE campaign_touches")
    op.execute("DROP TABLE campaign_arms")
    op.execute("DROP TABLE campaigns")

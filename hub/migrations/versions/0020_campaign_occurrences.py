"""Recurring campaign triggers: a member is assigned once per (campaign, occurrence).

``occurrence`` is the key of what the trigger fired for (``once``, a birthday's year, the
purchase a lapse started from, a purchase, an expiry day, an upgrade, a segment entry; see
``sync/campaigns/triggers.py``); ``occurred_at`` is when that happened, so the assignment
assigns only occurrences newer than the member's last one. The unique key moves from
(campaign, member) to (campaign, member, occurrence).

Touches written before this revision get the occurrence their trigger implies where it is
certain (ONCE: ``once``; BIRTHDAY: the year of the birthday they were assigned for), else
``legacy``; their ``occurred_at`` says what they covered: the birthday, the end of the
expiry window (POINTS_EXPIRING), or the assignment itself (every earlier purchase, lapse,
upgrade or entry). So nothing a touch stood for is assigned again; only what happens after
it is. The birthday is dated from the UTC day before the assignment: the programme's time
zone is a setting the migration does not see, and a day back covers any zone offset.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-05
"""

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None

_NEXT_BIRTHDAY = (
    "CASE WHEN CAST(m.birthday + make_interval(years => y.years) AS date) >= y.d"
    " THEN CAST(m.birthday + make_interval(years => y.years) AS date)"
    " ELSE CAST(m.birthday + make_interval(years => y.years + 1) AS date) END"
)

STATEMENTS = [
    "ALTER TABLE campaign_touches ADD COLUMN occurrence text"
    " CHECK (length(occurrence) BETWEEN 1 AND 64), ADD COLUMN occurred_at timestamptz",
    f"""
    WITH implied AS (
        SELECT t.id, c.trigger, t.assigned_at, c.trigger_days, b.day
        FROM campaign_touches t
        JOIN campaigns c ON c.id = t.campaign_id
        LEFT JOIN members m ON m.id = t.member_id
        CROSS JOIN LATERAL (SELECT CAST(timezone('UTC', t.assigned_at) AS date) - 1 AS d) d
        CROSS JOIN LATERAL (SELECT d.d,
            CAST(extract(year FROM d.d) - extract(year FROM m.birthday) AS int) AS years) y
        CROSS JOIN LATERAL (SELECT {_NEXT_BIRTHDAY} AS day) b
    )
    UPDATE campaign_touches t SET
        occurrence = CASE
            WHEN i.trigger = 'ONCE' THEN 'once'
            WHEN i.trigger = 'BIRTHDAY' AND i.day IS NOT NULL THEN to_char(i.day, 'YYYY')
            ELSE 'legacy' END,
        occurred_at = CASE
            WHEN i.trigger = 'ONCE' THEN NULL
            WHEN i.trigger = 'BIRTHDAY' AND i.day IS NOT NULL
                THEN timezone('UTC', CAST(i.day AS timestamp))
            WHEN i.trigger = 'POINTS_EXPIRING'
                THEN i.assigned_at + make_interval(days => coalesce(i.trigger_days, 0))
            ELSE i.assigned_at END
    FROM implied i WHERE i.id = t.id
    """,
    "ALTER TABLE campaign_touches ALTER COLUMN occurrence SET NOT NULL,"
    " DROP CONSTRAINT campaign_touches_campaign_id_member_id_key,"
    " ADD CONSTRAINT campaign_touches_occurrence_key"
    " UNIQUE (campaign_id, member_id, occurrence)",
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    # A member reached at several occurrences has several touches, which the old key cannot
    # hold; refuse rather than delete history.
    op.execute(
        """
        DO $$ BEGIN
            IF EXISTS (SELECT 1 FROM campaign_touches GROUP BY campaign_id, member_id
                       HAVING count(*) > 1) THEN
                RAISE EXCEPTION 'members have several touches of one campaign: cannot go back'
                    ' to one touch per campaign and member';
            END IF;
        END $$
        """
    )
    op.execute(
        "ALTER TABLE campaign_touches DROP CONSTRAINT campaign_touches_occurrence_key,"
        " ADD CONSTRAINT campaign_touches_campaign_id_member_id_key"
        " UNIQUE (campaign_id, member_id),"
        " DROP COLUMN occurred_at, DROP COLUMN occurrence"
    )

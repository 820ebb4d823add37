"""Behaviour events (page views, product views, searches, cart adds, ...) and the queue of
members whose segments and rule tags are re-evaluated soon.

``behaviour_events`` is partitioned by day on ``occurred_at``: retention drops whole
partitions (no bulk DELETE, no bloat) and the funnel and the rule compiler read only the
days they ask for. Partitions are created ahead by the ``events.partitions`` job and on
demand by the ingest path. The primary key is the sender's event ID within its member and
occurrence time (a partitioned table's unique keys must hold the partition key): a resend
of the same event is the same row, and ``ON CONFLICT DO NOTHING`` counts it once.

``member_reevaluations`` is filled by triggers from the domain events that can move a
member in or out of a segment (a purchase, a refund, a merge in the outbox; a profile
change on ``members``) and drained by the ``intelligence.reevaluate`` job.

Revision ID: 0018
Revises: 0015
Create Date: 2026-12-05
"""

from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

KINDS = "('PAGE_VIEW', 'VIEW_PRODUCT', 'SEARCH', 'ADD_TO_CART', 'FAVORITE', 'SHARE', 'COMMENT')"
CHANNELS = "('MINI_PROGRAM', 'WEB', 'POS', 'PARTNER', 'ADMIN')"
#: Outbox events after which a member's segments may have changed.
QUEUEING_EVENTS = "('purchase.recorded', 'purchase.refunded', 'member.merged', 'member.unmerged')"

STATEMENTS = [
    f"""
    CREATE TABLE behaviour_events (
        member_id    bigint NOT NULL,
        event_id     text NOT NULL CHECK (length(event_id) BETWEEN 1 AND 128),
        kind         text NOT NULL CHECK (kind IN {KINDS}),
        channel      text NOT NULL CHECK (channel IN {CHANNELS}),
        occurred_at  timestamptz NOT NULL,
        received_at  timestamptz NOT NULL,
        sku          text CHECK (length(sku) BETWEEN 1 AND 64),
        category     text CHECK (length(category) BETWEEN 1 AND 100),
        query        text CHECK (length(query) BETWEEN 1 AND 200),
        PRIMARY KEY (member_id, event_id, occurred_at)
    ) PARTITION BY RANGE (occurred_at)
    """,
    # The rule compiler and the funnel look events up by member, kind and time.
    "CREATE INDEX behaviour_events_member_kind ON behaviour_events (member_id, kind, occurred_at)",
    "CREATE INDEX behaviour_events_kind_time ON behaviour_events (kind, occurred_at)",
    """
    CREATE TABLE member_reevaluations (
        member_id  bigint PRIMARY KEY,
        queued_at  timestamptz NOT NULL
    )
    """,
    f"""
    CREATE FUNCTION queue_reevaluation_from_outbox() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO member_reevaluations (member_id, queued_at)
        SELECT DISTINCT n.member_id, now() FROM new_events n
        WHERE n.member_id IS NOT NULL AND n.event_type IN {QUEUEING_EVENTS}
        UNION
        SELECT DISTINCT (n.payload ->> 'merged_id')::bigint, now() FROM new_events n
        WHERE n.event_type IN ('member.merged', 'member.unmerged')
          AND n.payload ->> 'merged_id' ~ '^[0-9]{{1,18}}$'
        ON CONFLICT (member_id) DO NOTHING;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER outbox_queues_reevaluation AFTER INSERT ON outbox_events
    REFERENCING NEW TABLE AS new_events
    FOR EACH STATEMENT EXECUTE FUNCTION queue_reevaluation_from_outbox()
    """,
    """
    CREATE FUNCTION queue_reevaluation_from_profile() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO member_reevaluations (member_id, queued_at)
        SELECT n.id, now() FROM new_rows n JOIN old_rows o ON o.id = n.id
        WHERE (n.birthday, n.gender, n.region, n.status)
              IS DISTINCT FROM (o.birthday, o.gender, o.region, o.status)
        ON CONFLICT (member_id) DO NOTHING;
        RETURN NULL;
    END
    $$
    """,
    """
    CREATE TRIGGER profile_queues_reevaluation AFTER UPDATE ON members
    REFERENCING NEW TABLE AS new_rows OLD TABLE AS old_rows
    FOR EACH STATEMENT EXECUTE FUNCTION queue_reevaluation_from_profile()
    """,
]


def upgrade() -> None:
    for statement in STATEMENTS:
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TRIGGER profile_queues_reevaluation ON members")
    op.execute("DROP FUNCTION queue_reevaluation_from_profile()")
    op.execute("DROP TRIGGER outbox_queues_reevaluation ON outbox_events")
    op.execute("DROP FUNCTION queue_reevaluation_from_outbox()")
    op.execute("DROP TABLE member_reevaluations")
    op.execute("DROP TABLE behaviour_events")

"""Revision 0020 on a database with touches: each old touch gets the occurrence its trigger
implies, and nothing it stood for is assigned again; what comes after it is."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from hub.db.engine import create_engine, create_session_factory
from hub.db.migrate import migrate
from hub.wiring import build_event_bus
from ledger.model import LedgerConfig
from sync.campaigns.assignment import evaluate_campaigns
from tests.conftest import create_database, drop_database

#: 10:00 in Shanghai.
AT = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)

BEFORE = [
    "INSERT INTO members (id, registered_channel, birthday, created_at, updated_at)"
    " OVERRIDING SYSTEM VALUE VALUES (1, 'POS', DATE '1990-12-07', :at, :at),"
    " (2, 'POS', NULL, :at, :at), (3, 'POS', DATE '1985-12-07', :at, :at)",
    "INSERT INTO stores (id, name) VALUES ('S001', 'Store')",
    "INSERT INTO purchases (member_id, store_id, receipt_no, channel, amount, occurred_at,"
    " recorded_at, status, content_hash, rule_version, business_day)"
    " VALUES (2, 'S001', 'R-1', 'POS', 10, :lapse, :lapse, 'COMPLETED', '\\x00', 't', :day)",
    "INSERT INTO campaigns (name, status, trigger, trigger_days, starts_at,"
    " frequency_cap_days, conversion_window_days, created_by, created_at, started_at)"
    " VALUES ('Everyone', 'FINISHED', 'ONCE', NULL, :start, 0, 14, 't', :start, :start),"
    " ('Birthday', 'RUNNING', 'BIRTHDAY', 3, :start, 0, 14, 't', :start, :start),"
    " ('Win back', 'RUNNING', 'INACTIVE_DAYS', 30, :start, 0, 14, 't', :start, :start)",
    "INSERT INTO campaign_arms (campaign_id, position, name, weight)"
    " SELECT id, 0, 'holdout', 1 FROM campaigns",
    "INSERT INTO campaign_touches (campaign_id, member_id, arm_position, assigned_at, outcome)"
    " SELECT c.id, m.id, 0, :at, 'HOLDOUT' FROM campaigns c"
    " JOIN members m ON c.trigger = 'ONCE' OR (c.trigger = 'BIRTHDAY' AND m.id = 1)"
    "  OR (c.trigger = 'INACTIVE_DAYS' AND m.id = 2)",
]


async def test_touches_before_0020_keep_members_from_being_assigned_again(server_url):
    name = f"memberhub_0020_{uuid.uuid4().hex[:8]}"
    url = await create_database(server_url, name)
    engine = create_engine(url, pool_size=1)
    lapse = AT - timedelta(days=40)
    try:
        await migrate(engine, "0019")
        async with engine.begin() as conn:
            for statement in BEFORE:
                await conn.execute(
                    text(statement),
                    {"at": AT, "start": AT - timedelta(days=60), "lapse": lapse, "day": lapse},
                )

        await migrate(engine)

        async with engine.connect() as conn:
            rows = await conn.execute(
                text(
                    "SELECT c.name, t.member_id, t.occurrence, t.occurred_at"
                    " FROM campaign_touches t JOIN campaigns c ON c.id = t.campaign_id"
                    " ORDER BY c.id, t.member_id"
                )
            )
            migrated = [tuple(r) for r in rows.all()]
        assert migrated == [
            ("Everyone", 1, "once", None),
            ("Everyone", 2, "once", None),
            ("Everyone", 3, "once", None),
            ("Birthday", 1, "2026", datetime(2026, 12, 7, tzinfo=UTC)),
            ("Win back", 2, "legacy", AT),
        ]

        sessions = create_session_factory(engine, build_event_bus())

        async def evaluate(now: datetime) -> list[tuple[str, int, str]]:
            async with sessions() as session, session.begin():
                await evaluate_campaigns(
                    session, now=now, zone="Asia/Shanghai", ledger=LedgerConfig()
                )
                found = await session.execute(
                    text(
                        "SELECT c.name, t.member_id, t.occurrence FROM campaign_touches t"
                        " JOIN campaigns c ON c.id = t.campaign_id WHERE t.assigned_at = :now"
                        " ORDER BY c.id, t.member_id"
                    ),
                    {"now": now},
                )
                return [tuple(r) for r in found.all()]

        # The same birthday and the same lapse: only member 3, whom no touch covered.
        assert await evaluate(AT + timedelta(hours=1)) == [("Birthday", 3, "2026")]
        # Next year's birthday is a new occurrence; the lapse goes on, still the old one.
        assert await evaluate(AT.replace(year=2027)) == [
            ("Birthday", 1, "2027"),
            ("Birthday", 3, "2027"),
        ]
    finally:
        await engine.dispose()
        await drop_database(server_url, name)

"""A purchase's points by cause: BASE and TIER on its row, the other lines in
``purchase_points``; purchases stored before the row held them read the same."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from alembic import command
from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession

from hub.db.engine import create_engine
from hub.db.migrate import alembic_config, migrate
from sync.purchases.pricing import breakdowns
from tests.conftest import create_database, drop_database
from tests.hub.api.purchases_graphql import record
from tests.ledger.benefits.benefits_graphql import global_id
from tests.ledger.benefits.promotions_graphql import BREAKDOWN, at, define_promotion

#: A purchase stored as it was before revision 0021: every line in ``purchase_points``.
_TO_OLD_FORM = (
    "INSERT INTO purchase_points (purchase_id, line_no, cause, points)"
    " SELECT id, 1, 'BASE', base_points FROM purchases WHERE receipt_no = :receipt"
    " UNION ALL SELECT id, 2, 'TIER', tier_points FROM purchases WHERE receipt_no = :receipt",
    "UPDATE purchases SET base_points = NULL, tier_points = NULL WHERE receipt_no = :receipt",
)


async def test_a_breakdown_reads_the_same_from_the_row_and_from_purchase_points(
    live_client, members, run_in_transaction, count_rows
):
    operator = await live_client("admin")
    till = await live_client("pos", store="S001")
    (me,) = await members(1)
    await define_promotion(operator, "member day", daysOfMonth=[at().day])
    await define_promotion(operator, "gift", kind="BONUS_POINTS", value="5", stackable=True)

    recorded = await record(till, "P-1", "100.00", memberId=global_id("Member", me), at=at())

    async def lines() -> list[tuple[str, int]]:
        found = (await till.data(BREAKDOWN, store="S001", receipt="P-1"))["purchase"]
        return [(line["key"], line["count"]) for line in found["pointsBreakdown"]]

    expected = [("BASE", 10), ("TIER", 0), ("PROMOTION:member day", 10), ("PROMOTION:gift", 5)]
    assert recorded["pointsEarned"] == 25
    assert await lines() == expected
    # The row holds BASE and TIER; only the promotions' lines are rows of their own.
    assert await count_rows("SELECT count(*) FROM purchase_points") == 2

    async def to_old_form(session: AsyncSession) -> None:
        for statement in _TO_OLD_FORM:
            await session.execute(text(statement), {"receipt": "P-1"})

    await run_in_transaction(to_old_form)

    assert await count_rows("SELECT count(*) FROM purchase_points") == 4
    assert await lines() == expected


async def test_a_purchase_earning_nothing_keeps_its_base_line_alone(live_client, members):
    till = await live_client("pos", store="S001")
    (me,) = await members(1)

    await record(till, "P-0", "0.50", memberId=global_id("Member", me), at=at())

    found = (await till.data(BREAKDOWN, store="S001", receipt="P-0"))["purchase"]
    assert found["pointsBreakdown"] == [{"key": "BASE", "count": 0}]


async def test_undoing_0021_moves_base_and_tier_back_to_purchase_points(server_url):
    name = f"memberhub_0021_{uuid.uuid4().hex[:8]}"
    url = await create_database(server_url, name)
    engine = create_engine(url, pool_size=1)
    now = datetime(2026, 3, 1, tzinfo=UTC)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(
                text("INSERT INTO stores (id, created_at) VALUES ('S1', :now)"), {"now": now}
            )
            purchase = await conn.scalar(
                text(
                    "INSERT INTO purchases (store_id, receipt_no, channel, amount, occurred_at,"
                    " recorded_at, status, content_hash, rule_version, business_day,"
                    " points_earned, base_points, tier_points)"
                    " VALUES ('S1', 'R1', 'POS', 100, :now, :now, 'COMPLETED', '\\x00', 'v1',"
                    " :day, 17, 10, 2) RETURNING id"
                ),
                {"now": now, "day": now.date()},
            )
            await conn.execute(
                text(
                    "INSERT INTO purchase_points (purchase_id, line_no, cause, points)"
                    " VALUES (:p, 3, 'COUPON:X', 5)"
                ),
                {"p": purchase},
            )

        def downgrade(connection: Connection) -> None:
            config = alembic_config()
            config.attributes["connection"] = connection
            command.downgrade(config, "0020")

        async with engine.begin() as conn:
            await conn.run_sync(downgrade)
        async with engine.connect() as conn:
            stored = (
                await conn.execute(
                    text("SELECT line_no, cause, points FROM purchase_points ORDER BY line_no")
                )
            ).all()
        assert [tuple(row) for row in stored] == [
            (1, "BASE", 10),
            (2, "TIER", 2),
            (3, "COUPON:X", 5),
        ]

        await migrate(engine)
        async with engine.connect() as conn:
            assert await breakdowns(conn.execute, [purchase]) == [
                [("BASE", 10), ("TIER", 2), ("COUPON:X", 5)]
            ]
    finally:
        await engine.dispose()
        await drop_database(server_url, name)

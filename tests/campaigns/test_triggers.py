"""Triggers: birthdays N days out, inactivity; evaluated by the job, set-based."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import text

from tests.campaigns.campaigns_graphql import campaign_input, create

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def assigned(run_in_transaction) -> list[int]:  # type: ignore[no-untyped-def]
    rows = await run_in_transaction(
        lambda s: s.execute(text("SELECT member_id FROM campaign_touches ORDER BY member_id"))
    )
    return list(rows.scalars())


async def test_a_birthday_three_days_out_fires_and_ten_days_out_does_not(
    live_client, people, evaluate, run_in_transaction
):
    admin = await live_client("admin")
    now = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)  # 10:00 in Shanghai
    today = now.astimezone(SHANGHAI).date()
    births = [
        (today + timedelta(days=3)).replace(year=1990),
        (today + timedelta(days=10)).replace(year=1985),
        None,
    ]
    soon, later, unknown = await people(3, at=now, birthdays=births)
    await create(admin, campaign_input("Birthday", "BIRTHDAY", triggerDays=3))

    await evaluate(now)
    first = await assigned(run_in_transaction)
    await evaluate(now + timedelta(days=7))
    after_a_week = await assigned(run_in_transaction)

    assert first == [soon]
    # Ten days out becomes three days out a week later; the first member is not assigned twice.
    assert after_a_week == [soon, later]
    assert unknown not in after_a_week


async def test_inactivity_fires_for_members_without_a_recent_purchase(
    live_client, people, buy, evaluate, run_in_transaction
):
    admin = await live_client("admin")
    now = datetime(2026, 12, 5, 2, 0, tzinfo=UTC)
    lapsed, regular, never = await people(3, at=now)
    await buy(
        [
            (lapsed, Decimal("50.00"), now - timedelta(days=40)),
            (regular, Decimal("50.00"), now - timedelta(days=40)),
            (regular, Decimal("20.00"), now - timedelta(days=5)),
        ]
    )
    await create(admin, campaign_input("Win back", "INACTIVE_DAYS", triggerDays=30))

    result = await evaluate(now)

    assert result.assigned == 1
    assert await assigned(run_in_transaction) == [lapsed]
    assert never not in await assigned(run_in_transaction)

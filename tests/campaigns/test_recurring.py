"""Recurring triggers: a member is reached once per occurrence (every birthday, every lapse,
every qualifying purchase), never twice for one, and the frequency cap is per campaign."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from tests.campaigns.campaigns_graphql import campaign_input, create
from tests.ledger.benefits.benefits_graphql import global_id

#: Noon in Shanghai, outside any quiet hours.
NOW = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)

HISTORY = """
query History($id: ID!) {
  member(id: $id) { campaignTouches { campaign { name } arm outcome occurrence } }
}
"""


def points_arm(points: int = 10) -> list[dict[str, Any]]:
    return [{"name": "points", "weight": 1, "action": {"awardPoints": points}}]


async def touches(run_in_transaction, member: int) -> list[tuple[str, str]]:  # type: ignore[no-untyped-def]
    """(campaign name, occurrence) of the member's touches, oldest first."""
    rows = await run_in_transaction(
        lambda s: s.execute(
            text(
                "SELECT c.name, t.occurrence FROM campaign_touches t"
                " JOIN campaigns c ON c.id = t.campaign_id WHERE t.member_id = :m"
                " ORDER BY t.assigned_at, c.name"
            ),
            {"m": member},
        )
    )
    return [tuple(r) for r in rows.all()]


async def grant_sms(run_in_transaction, ids: list[int]) -> None:  # type: ignore[no-untyped-def]
    await run_in_transaction(
        lambda s: s.execute(
            text(
                "INSERT INTO member_consents (member_id, channel, granted, updated_at)"
                " SELECT m, 'SMS', true, :now FROM unnest(CAST(:ids AS bigint[])) m"
            ),
            {"ids": ids, "now": NOW},
        )
    )


async def test_a_birthday_campaign_reaches_a_member_every_year_once(
    live_client, people, evaluate, deliver, received, run_in_transaction
):
    admin = await live_client("admin")
    # Birthdays on 8 December and on 1 January (next year's, seen from late December).
    december, january = await people(
        2, at=NOW, birthdays=[datetime(1990, 12, 8).date(), datetime(1988, 1, 1).date()]
    )
    await grant_sms(run_in_transaction, [december, january])
    await create(admin, campaign_input("Birthday", "BIRTHDAY", triggerDays=3, frequencyCapDays=0))

    # The job runs hourly: many runs around this year's birthday reach the member once.
    for hours in range(0, 96, 7):
        await evaluate(NOW + timedelta(hours=hours))
        await deliver(NOW + timedelta(hours=hours))
    for days in (25, 26, 27, 28):
        await evaluate(NOW + timedelta(days=days))
    assert await touches(run_in_transaction, december) == [("Birthday", "2026")]
    assert await touches(run_in_transaction, january) == [("Birthday", "2027")]

    # A year on: reached again, once, however often the job runs.
    next_year = NOW.replace(year=2027)
    for hours in range(0, 72, 5):
        await evaluate(next_year + timedelta(hours=hours))
        await deliver(next_year + timedelta(hours=hours))
    assert await touches(run_in_transaction, december) == [
        ("Birthday", "2026"),
        ("Birthday", "2027"),
    ]
    assert received.sms_to().count(f"+86138{december:08d}") == 2

    history = (await admin.data(HISTORY, id=global_id("Member", december)))["member"]
    assert [(t["occurrence"], t["outcome"]) for t in history["campaignTouches"]] == [
        ("2027", "DELIVERED"),
        ("2026", "DELIVERED"),
    ]


async def test_a_win_back_fires_again_when_the_member_lapses_again(
    live_client, people, buy, evaluate, deliver, received, run_in_transaction
):
    admin = await live_client("admin")
    lapsing, steady = await people(2, at=NOW)
    await grant_sms(run_in_transaction, [lapsing, steady])
    await buy(
        [
            (lapsing, Decimal("50.00"), NOW - timedelta(days=40)),
            (steady, Decimal("50.00"), NOW - timedelta(days=40)),
            (steady, Decimal("20.00"), NOW - timedelta(days=3)),
            (steady, Decimal("20.00"), NOW + timedelta(days=25)),
        ]
    )
    await create(admin, campaign_input("Win back", "INACTIVE_DAYS", triggerDays=30))

    first = await evaluate(NOW)
    await deliver(NOW)
    again = await evaluate(NOW + timedelta(days=2))
    # Back: buys, so no longer lapsed.
    await buy([(lapsing, Decimal("30.00"), NOW + timedelta(days=5))])
    await evaluate(NOW + timedelta(days=20))
    # Lapsed again, 30 days after that purchase (and past the 30-day cap).
    lapsed_again = await evaluate(NOW + timedelta(days=36))
    await deliver(NOW + timedelta(days=36))
    later = await evaluate(NOW + timedelta(days=50))

    assert (first.assigned, again.assigned, lapsed_again.assigned, later.assigned) == (1, 0, 1, 0)
    occurrences = [o for _, o in await touches(run_in_transaction, lapsing)]
    assert len(occurrences) == 2 and occurrences[0] != occurrences[1]
    assert all(o.startswith("purchase:") for o in occurrences)
    assert received.sms_to() == [f"+86138{lapsing:08d}"] * 2
    assert await touches(run_in_transaction, steady) == []


async def test_days_after_purchase_fires_per_purchase_spaced_by_the_cap(
    live_client, people, buy, evaluate, count_rows, run_in_transaction
):
    admin = await live_client("admin")
    # Event-like triggers look at purchases since the campaign started (the hub's real clock).
    now = datetime.now(UTC).replace(microsecond=0)
    member, other = await people(2, at=now)
    await create(
        admin,
        campaign_input(
            "Refill", "DAYS_AFTER_PURCHASE", triggerDays=7, arms=points_arm(), frequencyCapDays=30
        ),
    )
    await create(admin, campaign_input("Everyone", arms=points_arm(5)))
    await buy(
        [
            (member, Decimal("80.00"), now - timedelta(days=3)),
            (member, Decimal("80.00"), now + timedelta(days=6)),
            (other, Decimal("10.00"), now + timedelta(days=1)),
        ]
    )

    # Due on day 4. The same run also assigns the ONCE campaign: one campaign's touch does not
    # cap another.
    await evaluate(now + timedelta(days=5))
    assert sorted(await touches(run_in_transaction, member)) == [
        ("Everyone", "once"),
        ("Refill", await occurrence_of(run_in_transaction, member, 0)),
    ]
    # The second purchase is due on day 13, but Refill reached the member on day 5: held back
    # until day 35, however often the job runs; the other member is not held back.
    for day in (14, 20, 34):
        await evaluate(now + timedelta(days=day))
    assert [c for c, _ in await touches(run_in_transaction, member)].count("Refill") == 1
    assert [c for c, _ in await touches(run_in_transaction, other)] == ["Everyone", "Refill"]
    result = await evaluate(now + timedelta(days=36))
    await evaluate(now + timedelta(days=80))

    assert result.assigned == 1
    refills = [o for c, o in await touches(run_in_transaction, member) if c == "Refill"]
    assert refills == [
        await occurrence_of(run_in_transaction, member, 0),
        await occurrence_of(run_in_transaction, member, 1),
    ]
    # Points once per touch: 10 per refill, 5 once.
    assert (
        await count_rows(
            "SELECT coalesce(sum(amount), 0) FROM ledger_entries WHERE member_id = :m"
            " AND kind = 'BONUS'",
            m=member,
        )
        == 2 * 10 + 5
    )


async def occurrence_of(run_in_transaction, member: int, n: int) -> str:  # type: ignore[no-untyped-def]
    """``purchase:<id>`` of the member's n-th purchase."""
    rows = await run_in_transaction(
        lambda s: s.execute(
            text("SELECT id FROM purchases WHERE member_id = :m ORDER BY occurred_at"),
            {"m": member},
        )
    )
    return f"purchase:{rows.scalars().all()[n]}"


async def test_a_cap_holds_a_message_arm_from_when_it_reached_the_member(
    live_client, people, buy, evaluate, deliver, received, run_in_transaction
):
    admin = await live_client("admin")
    now = datetime.now(UTC).replace(microsecond=0)
    (member,) = await people(1, at=now)
    await grant_sms(run_in_transaction, [member])
    await create(
        admin, campaign_input("Refill", "DAYS_AFTER_PURCHASE", triggerDays=1, frequencyCapDays=10)
    )
    await buy(
        [
            (member, Decimal("10.00"), now + timedelta(hours=1)),
            (member, Decimal("10.00"), now + timedelta(days=2)),
        ]
    )

    # Day 2: the first purchase is due; its message waits (nothing delivers it yet), and a
    # waiting message holds the member back as a reached one would.
    await evaluate(now + timedelta(days=2))
    waiting = await evaluate(now + timedelta(days=4))
    await deliver(now + timedelta(days=5))
    within = await evaluate(now + timedelta(days=14))
    after = await evaluate(now + timedelta(days=16))
    await deliver(now + timedelta(days=16))

    assert (waiting.assigned, within.assigned, after.assigned) == (0, 0, 1)
    assert received.sms_to() == [f"+86138{member:08d}"] * 2

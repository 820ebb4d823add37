"""The A/B report of a campaign that touches members more than once stays exact: members,
conversions and the z-test count distinct members, revenue each purchase once."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from statistics import NormalDist

import pytest
from sqlalchemy import text

from tests.campaigns.campaigns_graphql import REPORT, campaign_input, create
from tests.ledger.benefits.benefits_graphql import global_id

MEMBERS = 180
WINDOW = timedelta(days=14)
ARMS = [
    {"name": "small", "weight": 1, "action": {"awardPoints": 5}},
    {"name": "large", "weight": 1, "action": {"awardPoints": 50}},
    {"name": "holdout", "weight": 1},
]
POINTS = {"small": 5, "large": 50, "holdout": 0}

HISTORY = """
query History($id: ID!) {
  member(id: $id) { campaignTouches { arm occurrence } }
}
"""


async def test_a_report_over_repeated_touches_matches_an_independent_count(
    live_client, people, buy, evaluate, run_in_transaction
):
    admin = await live_client("admin")
    # Event-like triggers look at purchases since the campaign started (the hub's real clock).
    now = datetime.now(UTC).replace(microsecond=0)
    ids = await people(MEMBERS, at=now)
    campaign = await create(
        admin,
        campaign_input(
            "Again", "DAYS_AFTER_PURCHASE", triggerDays=1, arms=ARMS, frequencyCapDays=0
        ),
    )
    purchases: list[tuple[int, Decimal, datetime]] = [
        (m, Decimal("10.00"), now + timedelta(hours=1)) for m in ids
    ]
    await buy(purchases)
    await evaluate(now + timedelta(days=2))  # everyone: the first purchase
    # Even members buy again: a conversion of the first touch, and a second occurrence.
    again = [(m, Decimal("25.00"), now + timedelta(days=3)) for m in ids if m % 2 == 0]
    await buy(again)
    second = await evaluate(now + timedelta(days=5))
    # In both windows of a member touched twice (counted once), or in the second window only
    # (after the first's end), or in no window.
    later = (
        [(m, Decimal("30.00"), now + timedelta(days=10)) for m in ids if m % 3 == 0]
        + [(m, Decimal("999.00"), now + timedelta(days=18)) for m in ids if m % 5 == 0]
        + [(m, Decimal("7.00"), now + timedelta(days=40)) for m in ids if m % 7 == 0]
    )
    await buy(later)
    purchases += again + later
    assert second.assigned == len(again)

    rows = await run_in_transaction(
        lambda s: s.execute(
            text(
                "SELECT t.member_id, a.name, t.assigned_at FROM campaign_touches t"
                " JOIN campaign_arms a ON a.campaign_id = t.campaign_id"
                " AND a.position = t.arm_position"
            )
        )
    )
    touches = rows.all()
    assert len(touches) == MEMBERS + len(again)
    arm_of: dict[int, str] = {}
    windows: dict[int, list[datetime]] = {}
    for member, arm, assigned_at in touches:
        assert arm_of.setdefault(member, arm) == arm  # the same arm at every occurrence
        windows.setdefault(member, []).append(assigned_at)

    def expected(arm: str) -> dict[str, object]:
        members = [m for m in arm_of if arm_of[m] == arm]
        converting = [
            (m, amount)
            for m, amount, at in purchases
            if m in members and any(a < at <= a + WINDOW for a in windows[m])
        ]
        return {
            "members": len(members),
            "reached": 0 if arm == "holdout" else len(members),
            "converted": len({m for m, _ in converting}),
            "revenue": sum((amount for _, amount in converting), Decimal("0.00")),
            "pointsAwarded": POINTS[arm] * sum(len(windows[m]) for m in members),
        }

    report = (await admin.data(REPORT, id=campaign))["campaign"]["report"]
    got = {a["name"]: a for a in report["arms"]}
    for arm in POINTS:
        want = expected(arm)
        assert {k: got[arm][k] for k in want if k != "revenue"} == {
            k: v for k, v in want.items() if k != "revenue"
        }
        assert Decimal(got[arm]["revenue"]) == want["revenue"]
        assert got[arm]["conversionRate"] == want["converted"] / want["members"]  # type: ignore[operator]

    def rate(arm: str) -> float:
        want = expected(arm)
        return want["converted"] / want["members"]  # type: ignore[operator]

    best = max(("small", "large"), key=rate)
    x1, n1 = expected(best)["converted"], expected(best)["members"]
    x2, n2 = expected("holdout")["converted"], expected("holdout")["members"]
    pooled = (x1 + x2) / (n1 + n2)  # type: ignore[operator]
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))  # type: ignore[operator]
    assert report["uplift"] == pytest.approx((rate(best) - rate("holdout")) * 100, abs=1e-9)
    assert report["pValue"] == pytest.approx(2 * (1 - NormalDist().cdf(abs(z))), abs=1e-9)

    # The member's history lists each occurrence, in the one arm.
    member = next(m for m in ids if m % 2 == 0)
    history = (await admin.data(HISTORY, id=global_id("Member", member)))["member"]
    assert [t["arm"] for t in history["campaignTouches"]] == [arm_of[member]] * 2
    occurrences = [t["occurrence"] for t in history["campaignTouches"]]
    assert len(set(occurrences)) == 2 and all(o.startswith("purchase:") for o in occurrences)

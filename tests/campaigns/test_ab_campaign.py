"""An A/B campaign with a holdout, end to end: over HTTP, the jobs, fake WeChat and SMS."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from statistics import NormalDist

from sqlalchemy import text

from tests.campaigns.campaigns_graphql import REPORT, TOUCHES, campaign_input, create
from tests.ledger.benefits.benefits_graphql import global_id

MEMBERS = 300
WEIGHTS = {"sms": 2, "wechat": 1, "holdout": 1}


def arms() -> list[dict[str, object]]:
    return [
        {
            "name": "sms",
            "weight": WEIGHTS["sms"],
            "action": {
                "awardPoints": 20,
                "message": {
                    "channel": "SMS",
                    "templateId": "SMS-1",
                    "data": [
                        {"key": "text", "value": "{{member.name}}: {{points.available}} points"}
                    ],
                },
            },
        },
        {
            "name": "wechat",
            "weight": WEIGHTS["wechat"],
            "action": {"message": {"channel": "WECHAT_SUBSCRIBE", "templateId": "WX-1"}},
        },
        {"name": "holdout", "weight": WEIGHTS["holdout"]},
    ]


async def test_ab_split_holdout_and_report_match_an_independent_count(
    live_client, people, buy, evaluate, deliver, received, run_in_transaction
):
    admin = await live_client("admin")
    now = datetime.now(UTC).replace(microsecond=0)
    ids = await people(MEMBERS, at=now)
    await run_in_transaction(
        lambda s: s.execute(
            text(
                "INSERT INTO member_consents (member_id, channel, granted, updated_at)"
                " SELECT m, c, true, :now FROM unnest(CAST(:ids AS bigint[])) m,"
                " unnest(ARRAY['SMS', 'WECHAT_SUBSCRIBE']) c"
            ),
            {"ids": ids, "now": now},
        )
    )
    campaign = await create(admin, campaign_input("Spring A/B", arms=arms()))

    first = await evaluate(now)
    again = await evaluate(now + timedelta(minutes=5))
    run = await deliver(now)

    assert (first.assigned, again.assigned) == (MEMBERS, 0)
    arm_of = dict(
        (
            await run_in_transaction(
                lambda s: s.execute(
                    text(
                        "SELECT t.member_id, a.name FROM campaign_touches t JOIN campaign_arms a"
                        " ON a.campaign_id = t.campaign_id AND a.position = t.arm_position"
                    )
                )
            )
        ).all()
    )
    by_arm = {name: sorted(m for m, a in arm_of.items() if a == name) for name in WEIGHTS}
    total = sum(WEIGHTS.values())
    for name, weight in WEIGHTS.items():
        p = weight / total
        assert abs(len(by_arm[name]) - MEMBERS * p) <= 4 * math.sqrt(MEMBERS * p * (1 - p))
    # Each member reached once on the arm's channel; the holdout never.
    phones = {f"+86138{m:08d}": m for m in ids}
    assert sorted(phones[p] for p in received.sms_to()) == by_arm["sms"]
    assert sorted(int(o.removeprefix("openid-")) for o in received.wechat_to()) == by_arm["wechat"]
    assert received.tokens == 1
    assert run.outcomes == {"DELIVERED": len(by_arm["sms"]), "SENT": len(by_arm["wechat"])}
    sample = next(m for m in received.sms if phones[m["to"]] == by_arm["sms"][0])
    assert sample["data"] == {"text": f"Member {ids.index(by_arm['sms'][0]) + 1}: 20 points"}

    # Purchases: every third member converts within the window; others buy too early or late.
    converting = [m for m in ids if m % 3 == 0]
    await buy(
        [(m, Decimal("100.50"), now + timedelta(days=1)) for m in converting]
        + [(m, Decimal("70.00"), now + timedelta(days=2)) for m in converting[:10]]
        + [(m, Decimal("999.00"), now - timedelta(days=1)) for m in ids if m % 3 == 1]
        + [(m, Decimal("999.00"), now + timedelta(days=20)) for m in ids if m % 3 == 1]
    )
    report = (await admin.data(REPORT, id=campaign))["campaign"]

    def expected(name: str) -> tuple[int, int, Decimal]:
        members = by_arm[name]
        converted = [m for m in members if m in converting]
        extra = sum(Decimal("70.00") for m in converted if m in converting[:10])
        return len(members), len(converted), Decimal("100.50") * len(converted) + extra

    assert report["status"] == "FINISHED"
    got = {a["name"]: a for a in report["report"]["arms"]}
    for name in WEIGHTS:
        members, converted, revenue = expected(name)
        arm = got[name]
        assert (arm["members"], arm["converted"], Decimal(arm["revenue"])) == (
            members,
            converted,
            revenue,
        )
        assert arm["conversionRate"] == converted / members
        assert arm["reached"] == (0 if name == "holdout" else members)
        assert arm["holdout"] is (name == "holdout")
    assert got["sms"]["pointsAwarded"] == 20 * len(by_arm["sms"])
    assert got["wechat"]["pointsAwarded"] == 0

    rates = {n: expected(n)[1] / expected(n)[0] for n in WEIGHTS}
    best = max(("sms", "wechat"), key=lambda n: rates[n])
    n1, x1 = expected(best)[0], expected(best)[1]
    n2, x2 = expected("holdout")[0], expected("holdout")[1]
    pooled = (x1 + x2) / (n1 + n2)
    z = (x1 / n1 - x2 / n2) / math.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    assert report["report"]["uplift"] == pytest_approx((rates[best] - rates["holdout"]) * 100)
    assert report["report"]["pValue"] == pytest_approx(2 * (1 - NormalDist().cdf(abs(z))))

    # The member's history shows the touch.
    member = by_arm["holdout"][0]
    touches = (await admin.data(TOUCHES, id=global_id("Member", member)))["member"]
    assert touches["campaignTouches"] == [
        {
            "campaign": {"name": "Spring A/B"},
            "arm": "holdout",
            "reachedAt": None,
            "channel": None,
            "outcome": "HOLDOUT",
        }
    ]


def pytest_approx(value: float):  # type: ignore[no-untyped-def]
    import pytest

    return pytest.approx(value, rel=1e-9, abs=1e-12)

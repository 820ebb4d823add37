"""Promotions defined at run time price the next purchase on every hub, over real HTTP."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.conftest import START
from tests.hub.api.purchases_graphql import RECORD_BATCH, purchase_input, record
from tests.ledger.benefits.benefits_graphql import global_id
from tests.ledger.benefits.promotions_graphql import (
    DEFINE_PROMOTION,
    END_PROMOTION,
    PROMOTIONS,
    at,
    breakdown,
    define_promotion,
    promotion_input,
)
from tests.statements import counted_statements

DASHBOARD = """
query Dashboard($from: Date!, $to: Date!, $store: ID) {
  dashboard(from: $from, to: $to, storeId: $store) { promotionPoints }
}
"""


async def test_a_promotion_defined_through_one_hub_prices_purchases_through_another_at_once(
    live_client, graphql_client, members, count_rows
):
    operator = await live_client("admin")  # one hub process (uvicorn)
    till = await graphql_client("pos", store="S001")  # another (in process, its own engine)
    (me,) = await members(1)
    member = global_id("Member", me)

    before = await record(till, "P-1", "100.00", memberId=member, at=at(hours=-2))
    defined = await define_promotion(operator, "member day", daysOfMonth=[START.day])
    after = await record(till, "P-2", "100.00", memberId=member, at=at(hours=-1))

    assert defined["userErrors"] == []
    assert (before["pointsEarned"], after["pointsEarned"]) == (10, 20)
    assert await breakdown(till, "P-1") == {"BASE": 10, "TIER": 0}
    assert await breakdown(till, "P-2") == {"BASE": 10, "TIER": 0, "PROMOTION:member day": 10}
    listed = (await till.data(PROMOTIONS, at=START.isoformat()))["promotions"]
    assert [(p["name"], p["daysOfMonth"], p["pointsAwarded"]) for p in listed] == [
        ("member day", [START.day], 10)
    ]
    # Each purchase records the version of the rules that priced it.
    assert await count_rows("SELECT count(DISTINCT rule_version) FROM purchases") == 2


async def test_an_ended_promotion_no_longer_applies_on_any_hub(live_client, members):
    operator = await live_client("admin")
    till = await live_client("pos", store="S001")
    (me,) = await members(1)
    member = global_id("Member", me)
    defined = await define_promotion(operator, "gift", kind="BONUS_POINTS", value="5")

    def now() -> datetime:
        return datetime.now(UTC) - timedelta(seconds=1)

    during = await record(till, "E-1", "100.00", memberId=member, at=now())
    ended = (await operator.data(END_PROMOTION, id=defined["promotion"]["id"]))["endPromotion"]
    later = await record(till, "E-2", "100.00", memberId=member, at=datetime.now(UTC))

    assert (during["pointsEarned"], later["pointsEarned"]) == (15, 10)
    assert ended["userErrors"] == [] and ended["promotion"]["endsAt"] is not None
    assert ended["promotion"]["pointsAwarded"] == 5
    running = (await till.data(PROMOTIONS, at=datetime.now(UTC).isoformat()))["promotions"]
    assert running == []


async def test_a_batch_prices_birthdays_segments_and_nth_purchases_together(
    graphql_client, members, segment, run_in_transaction
):
    admin = await graphql_client("admin")
    till = await graphql_client("pos", store="S001")
    birthday_member, other = await members(2)
    await run_in_transaction(
        lambda s: s.execute(
            text("UPDATE members SET birthday = :day WHERE id = :id"),
            {"day": START.date().replace(year=1990), "id": birthday_member},
        )
    )
    vip = await segment("VIP", [birthday_member])
    for name, extra in (
        (
            "birthday",
            {"kind": "BONUS_POINTS", "value": "50", "birthdayWindowDays": 0, "stackable": True},
        ),
        ("vip x3", {"value": "3", "segmentId": global_id("Segment", vip)}),
        ("second +50%", {"value": "1.5", "nthPurchase": 2, "stackable": True}),
    ):
        assert (await define_promotion(admin, name, **extra))["userErrors"] == []

    inputs = [
        purchase_input(
            "B-1", "100.00", memberId=global_id("Member", birthday_member), at=at(hours=-2)
        ),
        purchase_input(
            "B-2", "100.00", memberId=global_id("Member", birthday_member), at=at(hours=-1)
        ),
        purchase_input("B-3", "100.00", memberId=global_id("Member", other), at=at(hours=-1)),
    ]
    answers = (await till.data(RECORD_BATCH, inputs=inputs))["recordPurchases"]

    assert [a["pointsEarned"] for a in answers] == [80, 95, 10]
    assert await breakdown(till, "B-2") == {
        "BASE": 10,
        "TIER": 0,
        "PROMOTION:vip x3": 20,
        "PROMOTION:second +50%": 15,
        "PROMOTION:birthday": 50,
    }
    awarded = {p["name"]: p["pointsAwarded"] for p in (await till.data(PROMOTIONS))["promotions"]}
    assert awarded == {"birthday": 100, "vip x3": 40, "second +50%": 15}
    # The dashboard's promotion points of the period are the same points.
    day = START.date()
    for store, start, promotion_points in (
        (None, day, 155),
        ("S002", day, 0),
        (None, day - timedelta(days=1), 0),
    ):
        period = {"from": start.isoformat(), "to": start.isoformat(), "store": store}
        got = (await admin.data(DASHBOARD, **period))["dashboard"]
        assert got["promotionPoints"] == promotion_points


async def test_over_http_bad_promotions_are_refused_with_nothing_written(live_client, count_rows):
    operator = await live_client("admin")
    till = await live_client("pos", store="S001")
    cases = [
        ({"value": "NaN"}, "value"),
        ({"value": "1e30"}, "value"),
        ({"value": "1"}, "value"),
        ({"kind": "BONUS_POINTS", "value": "2.5"}, "value"),
        ({"name": "a\x00b"}, "name"),
        ({"name": "x" * 101}, "name"),
        ({"name": "   "}, "name"),
        ({"daysOfMonth": [32]}, "daysOfMonth"),
        ({"daysOfWeek": [0]}, "daysOfWeek"),
        ({"birthdayWindowDays": -1}, "birthdayWindowDays"),
        ({"nthPurchase": 0}, "nthPurchase"),
        ({"endsAt": (START - timedelta(days=2)).isoformat()}, "endsAt"),
        ({"segmentId": "bm90LWEtc2VnbWVudA=="}, "segmentId"),
        ({"segmentId": global_id("Segment", 999)}, "segmentId"),
        ({"skus": ["x" * 200]}, "skus"),
    ]
    for extra, field in cases:
        answer = (
            await operator.data(DEFINE_PROMOTION, input={**promotion_input("edge"), **extra})
        )["definePromotion"]
        assert answer["promotion"] is None, extra
        assert [e["code"] for e in answer["userErrors"]] == ["INVALID_INPUT"], extra
        assert field in answer["userErrors"][0]["field"], (extra, answer["userErrors"])
    refused = (await till.data(DEFINE_PROMOTION, input=promotion_input("mine")))["definePromotion"]
    missing = (await operator.data(END_PROMOTION, id=global_id("Promotion", 12345)))["endPromotion"]

    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    assert [e["code"] for e in missing["userErrors"]] == ["NOT_FOUND"]
    assert await count_rows("SELECT count(*) FROM promotions") == 0
    assert await count_rows("SELECT count(*) FROM earning_rules") == 0


async def test_with_promotions_a_batch_of_100_costs_the_statements_of_a_batch_of_10(
    graphql_client, members, engine, app
):
    admin = await graphql_client("admin")
    await define_promotion(admin, "first purchase", kind="BONUS_POINTS", value="5", nthPurchase=1)
    buyers = [global_id("Member", m) for m in await members(110)]

    def batch(tag: str, chosen: list[str]) -> list[dict[str, object]]:
        return [
            purchase_input(f"{tag}-{n}", "20.00", memberId=m, at=at(hours=-3))
            for n, m in enumerate(chosen)
        ]

    with counted_statements(engine, app.state.hub.reads) as ten:
        small = await admin.data(RECORD_BATCH, inputs=batch("T", buyers[:10]))
    with counted_statements(engine, app.state.hub.reads) as hundred:
        large = await admin.data(RECORD_BATCH, inputs=batch("H", buyers[10:]))

    answers = small["recordPurchases"] + large["recordPurchases"]
    # Each buyer's first purchase: 2 base points and the 5 of the promotion.
    assert [a["pointsEarned"] for a in answers] == [7] * 110
    assert len(hundred) == len(ten)
    # What the conditions need of the buyers is read in one statement per batch.
    assert len([s for s in hundred if "segment_members" in s]) == 1

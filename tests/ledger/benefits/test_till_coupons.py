"""Coupons used at the till: redeemed with the purchase, once, given back on a refund."""

from __future__ import annotations

import asyncio

from tests.hub.api.purchases_graphql import purchase_input, refund
from tests.ledger.benefits.benefits_graphql import STATS, define, global_id, issue
from tests.ledger.benefits.promotions_graphql import breakdown

RECORD = """
mutation Record($input: PurchaseInput!) {
  recordPurchase(input: $input) {
    pointsEarned replayed
    coupons { usable discount reason coupon { code status } }
    userErrors { code field message }
  }
}
"""


async def codes_of(count_rows, run_in_transaction, member: int) -> list[str]:  # type:
    # ignore[no-untyped-def]
    from sqlalchemy import text

    result = await run_in_transaction(
        lambda s: s.execute(
            text("SELECT code FROM coupons WHERE member_id = :m ORDER BY template_id"),
            {"m": member},
        )
    )
    return list(result.scalars().all())


async def buy(till, receipt: str, amount: str, member: int, codes: list[str]):  # type:
    # ignore[no-untyped-def]
    data = await till.data(
        RECORD,
        input=purchase_input(
            receipt, amount, memberId=global_id("Member", member), couponCodes=codes
        ),
    )
    return data["recordPurchase"]


async def test_a_till_redeems_coupons_with_the_purchase_once_and_a_refund_gives_them_back(
    admin, graphql_client, members, count_rows, run_in_transaction
):
    till = await graphql_client("pos", store="S001")
    (me,) = await members(1)
    cash = await define(admin, "CASH50")
    double = await define(admin, "DOUBLE", kind="POINTS_MULTIPLIER", value="2", minSpend=None)
    await issue(admin, cash["id"], "i-1", members=[me])
    await issue(admin, double["id"], "i-2", members=[me])
    cash_code, double_code = await codes_of(count_rows, run_in_transaction, me)

    bought = await buy(till, "C-1", "250.00", me, [cash_code, double_code.lower()])
    again = await buy(till, "C-1", "250.00", me, [cash_code, double_code])
    stats = {
        t["code"]: t["stats"]["revenue"]
        for t in (await admin.data(STATS, active=True))["couponTemplates"]
    }
    returned = await refund(till, "C-1", "RF-1", "250.00")

    assert bought["userErrors"] == [] and bought["pointsEarned"] == 50
    assert [
        (c["coupon"]["code"], c["discount"], c["coupon"]["status"]) for c in bought["coupons"]
    ] == [
        (cash_code, "50.00", "REDEEMED"),
        (double_code, "0.00", "REDEEMED"),
    ]
    assert await breakdown(till, "C-1") == {"BASE": 25, "TIER": 0, f"COUPON:{double_code}": 25}
    # The replay answers the first time's coupons and redeems nothing again.
    assert again["replayed"] is True
    assert [c["discount"] for c in again["coupons"]] == ["50.00", "0.00"]
    assert await count_rows("SELECT count(*) FROM coupon_events WHERE kind = 'REDEEMED'") == 2
    assert stats == {"CASH50": "250.00", "DOUBLE": "250.00"}
    assert returned["userErrors"] == []
    assert await count_rows("SELECT count(*) FROM coupons WHERE status = 'ACTIVE'") == 2
    assert await count_rows("SELECT count(*) FROM coupon_events WHERE kind = 'RETURNED'") == 2


async def test_twenty_tills_naming_one_coupon_at_once_redeem_it_once(
    admin, graphql_client, members, count_rows, run_in_transaction
):
    tills = [await graphql_client("pos", store="S001") for _ in range(4)]
    (me,) = await members(1)
    cash = await define(admin, "ONCE")
    await issue(admin, cash["id"], "i-1", members=[me])
    (code,) = await codes_of(count_rows, run_in_transaction, me)

    answers = await asyncio.gather(
        *(buy(tills[n % 4], f"R-{n}", "300.00", me, [code]) for n in range(20))
    )

    redeemed = [a for a in answers if not a["userErrors"]]
    refused = [a["userErrors"] for a in answers if a["userErrors"]]
    assert len(redeemed) == 1 and redeemed[0]["coupons"][0]["discount"] == "50.00"
    assert refused == [
        [
            {
                "code": "INVALID_INPUT",
                "field": ["input", "couponCodes", "0"],
                "message": m[0]["message"],
            }
        ]
        for m in refused
    ]
    assert all("USED" in m[0]["message"] for m in refused) and len(refused) == 19
    assert await count_rows("SELECT count(*) FROM purchases") == 1
    assert await count_rows("SELECT count(*) FROM coupon_events WHERE kind = 'REDEEMED'") == 1


async def test_a_coupon_the_purchase_cannot_use_refuses_it_with_nothing_written(
    admin, graphql_client, members, count_rows, run_in_transaction
):
    till = await graphql_client("pos", store="S001")
    me, other = await members(2)
    cash = await define(admin, "MINE")
    await issue(admin, cash["id"], "i-1", members=[other])
    (theirs,) = await codes_of(count_rows, run_in_transaction, other)

    not_owner = await buy(till, "N-1", "300.00", me, [theirs])
    too_small = await buy(till, "N-2", "100.00", other, [theirs])
    unknown = await buy(till, "N-3", "300.00", me, ["0000000000000000"])

    assert [e["code"] for e in not_owner["userErrors"]] == ["INVALID_INPUT"]
    assert "NOT_OWNER" in not_owner["userErrors"][0]["message"]
    assert "MIN_SPEND" in too_small["userErrors"][0]["message"]
    assert [e["code"] for e in unknown["userErrors"]] == ["NOT_FOUND"]
    assert await count_rows("SELECT count(*) FROM purchases") == 0
    assert await count_rows("SELECT count(*) FROM coupons WHERE status = 'ACTIVE'") == 1

"""Coupons in a till's batch: claimed together, at the cost of a batch without them; a
coupon the batch cannot use refuses only its own purchase."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import text

from tests.conftest import START
from tests.hub.api.purchases_graphql import purchase_input
from tests.ledger.benefits.benefits_graphql import define, global_id, issue
from tests.statements import counted_statements

RECORD_MANY = """
mutation Many($inputs: [PurchaseInput!]!) {
  recordPurchases(inputs: $inputs) {
    pointsEarned
    coupons { discount coupon { code status } }
    userErrors { code field message }
  }
}
"""


async def wallets(run_in_transaction, members: list[int]) -> dict[int, list[str]]:  # type:
    # ignore[no-untyped-def]
    rows = await run_in_transaction(
        lambda s: s.execute(
            text(
                "SELECT member_id, code FROM coupons WHERE member_id = ANY(:m)"
                " ORDER BY member_id, template_id"
            ),
            {"m": members},
        )
    )
    found: dict[int, list[str]] = {m: [] for m in members}
    for row in rows:
        found[row.member_id].append(row.code)
    return found


def bought(prefix: str, member: int, codes: list[str], **extra: object) -> dict:
    return purchase_input(
        f"{prefix}-{member}",
        "250.00",
        memberId=global_id("Member", member),
        couponCodes=codes,
        # Before the hub's now: a purchase of the hub's very moment goes alone.
        at=START - timedelta(hours=1),
        **extra,
    )


async def test_a_batch_redeems_each_purchases_coupons_for_the_statements_of_a_small_one(
    admin, graphql_client, members, count_rows, run_in_transaction, engine, app
):
    till = await graphql_client("pos", store="S001")
    buyers = await members(40)
    cash = await define(admin, "CASH50")
    double = await define(admin, "DOUBLE", kind="POINTS_MULTIPLIER", value="2", minSpend=None)
    await issue(admin, cash["id"], "cash", members=buyers)
    await issue(admin, double["id"], "double", members=buyers)
    codes = await wallets(run_in_transaction, buyers)

    with counted_statements(engine, app.state.hub.reads) as ten:
        small = await till.data(RECORD_MANY, inputs=[bought("T", m, codes[m]) for m in buyers[:10]])
    with counted_statements(engine, app.state.hub.reads) as thirty:
        large = await till.data(RECORD_MANY, inputs=[bought("L", m, codes[m]) for m in buyers[10:]])

    answers = small["recordPurchases"] + large["recordPurchases"]
    assert [a["userErrors"] for a in answers] == [[]] * 40
    # 25 base points, doubled by the multiplier coupon; 50 yuan off with the cash coupon.
    assert [a["pointsEarned"] for a in answers] == [50] * 40
    assert [
        [(c["coupon"]["code"], c["discount"], c["coupon"]["status"]) for c in a["coupons"]]
        for a in answers
    ] == [[(codes[m][0], "50.00", "REDEEMED"), (codes[m][1], "0.00", "REDEEMED")] for m in buyers]
    assert len(thirty) == len(ten)
    assert await count_rows("SELECT count(*) FROM coupon_events WHERE kind = 'REDEEMED'") == 80
    assert await count_rows("SELECT count(*) FROM coupons WHERE status = 'ACTIVE'") == 0


async def test_a_coupon_a_batch_cannot_use_refuses_its_purchase_alone(
    admin, graphql_client, members, count_rows, run_in_transaction
):
    till = await graphql_client("pos", store="S001")
    first, second, third = await members(3)
    cash = await define(admin, "CASH50")
    await issue(admin, cash["id"], "cash", members=[first, second])
    codes = await wallets(run_in_transaction, [first, second])
    before = await count_rows("SELECT count(*) FROM members")
    stranger = {"identities": [{"type": "PHONE", "value": "13700000001", "verified": True}]}
    inputs = [
        bought("A", first, codes[first]),
        # Another member's coupon, the same coupon twice in one batch, a first-time buyer
        # with someone's coupon, and a purchase without coupons.
        bought("B", third, codes[second]),
        bought("C", first, codes[first], receiptNo=f"C-{first}"),
        {**bought("D", 0, codes[second]), "memberId": None, **stranger},
        {**bought("E", third, []), "couponCodes": None},
    ]

    answers = (await till.data(RECORD_MANY, inputs=inputs))["recordPurchases"]

    assert answers[0]["userErrors"] == [] and answers[4]["userErrors"] == []
    assert [c["coupon"]["status"] for c in answers[0]["coupons"]] == ["REDEEMED"]
    refused = [(a["userErrors"][0]["code"], a["userErrors"][0]["field"]) for a in answers[1:4]]
    assert refused == [
        ("INVALID_INPUT", ["inputs", "1", "couponCodes", "0"]),
        ("INVALID_INPUT", ["inputs", "2", "couponCodes", "0"]),
        ("INVALID_INPUT", ["inputs", "3", "couponCodes", "0"]),
    ]
    assert "NOT_OWNER" in answers[1]["userErrors"][0]["message"]
    assert "USED" in answers[2]["userErrors"][0]["message"]
    # Nothing of a refused purchase stays: no purchase, no redemption, no enrolment.
    assert await count_rows("SELECT count(*) FROM purchases") == 2
    assert await count_rows("SELECT count(*) FROM coupon_events WHERE kind = 'REDEEMED'") == 1
    assert await count_rows("SELECT count(*) FROM members") == before

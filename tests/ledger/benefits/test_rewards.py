"""The rewards catalogue: points for a coupon in one transaction, idempotent, refused with
nothing written when points or stock run short."""

from __future__ import annotations

import asyncio

from tests.graphql_client import GraphQLClient
from tests.hub.api.points_graphql import ISSUE_TOKEN
from tests.ledger.benefits.benefits_graphql import REWARDS, define, exchange, global_id, wallet


async def _ledger(count_rows, member: int) -> tuple[int, int, int]:
    return (
        await count_rows(
            "SELECT balance FROM points_balances WHERE member_id = :m AND bucket = 'AVAILABLE'",
            m=member,
        ),
        await count_rows(
            "SELECT count(*) FROM ledger_entries WHERE member_id = :m AND kind = 'REDEEM'",
            m=member,
        ),
        await count_rows("SELECT count(*) FROM coupons WHERE member_id = :m", m=member),
    )


async def test_exchange_debits_the_points_once_and_issues_the_coupon(
    admin, members, credit, count_rows
):
    reward = await define(admin, "TOTE", kind="GIFT", value=None, minSpend=None, pointsPrice=300)
    (member,) = await members(1)
    await credit(member, 1000)

    first = await exchange(admin, member, reward["id"], "tote-1")
    replay = await exchange(admin, member, reward["id"], "tote-1")

    assert first["userErrors"] == [] and first["replayed"] is False
    assert first["pointsSpent"] == 300
    assert first["coupon"]["source"] == "REWARD" and first["coupon"]["status"] == "ACTIVE"
    assert replay["replayed"] is True
    assert replay["coupon"]["code"] == first["coupon"]["code"]
    assert await _ledger(count_rows, member) == (700, 1, 1)
    mine = await wallet(admin, member)
    assert mine["points"]["available"] == 700
    assert [e["node"]["code"] for e in mine["coupons"]["edges"]] == [first["coupon"]["code"]]


async def test_insufficient_points_is_refused_with_nothing_written(
    admin, members, credit, count_rows
):
    reward = await define(admin, "MUG", kind="GIFT", value=None, minSpend=None, pointsPrice=500)
    (member,) = await members(1)
    await credit(member, 499)

    refused = await exchange(admin, member, reward["id"], "mug-1")

    assert refused["coupon"] is None
    assert [e["code"] for e in refused["userErrors"]] == ["INSUFFICIENT_POINTS"]
    assert await _ledger(count_rows, member) == (499, 0, 0)
    assert await count_rows("SELECT count(*) FROM coupon_requests") == 0
    # The key stays unused: once the member has the points, the same key exchanges.
    await credit(member, 1)
    accepted = await exchange(admin, member, reward["id"], "mug-1")
    assert accepted["userErrors"] == [] and accepted["pointsSpent"] == 500


async def test_out_of_stock_and_templates_outside_the_catalogue_are_refused(
    admin, members, credit, count_rows
):
    sold_out = await define(admin, "GONE", pointsPrice=10, stock=0)
    not_a_reward = await define(admin, "FREE")
    (member,) = await members(1)
    await credit(member, 100)

    gone = await exchange(admin, member, sold_out["id"], "gone-1")
    free = await exchange(admin, member, not_a_reward["id"], "free-1")

    assert [e["code"] for e in gone["userErrors"]] == ["OUT_OF_STOCK"]
    assert [(e["code"], e["field"]) for e in free["userErrors"]] == [
        ("INVALID_INPUT", ["input", "templateId"])
    ]
    assert await _ledger(count_rows, member) == (100, 0, 0)
    assert (await admin.data(REWARDS))["rewards"] == []


async def test_per_member_limit_refuses_the_exchange_and_returns_the_points(
    admin, members, credit, count_rows
):
    reward = await define(admin, "ONCE", pointsPrice=100, perMemberLimit=1)
    (member,) = await members(1)
    await credit(member, 500)

    await exchange(admin, member, reward["id"], "once-1")
    second = await exchange(admin, member, reward["id"], "once-2")

    assert [e["code"] for e in second["userErrors"]] == ["LIMIT_EXCEEDED"]
    assert await _ledger(count_rows, member) == (400, 1, 1)


async def test_20_concurrent_exchanges_never_sell_more_than_the_stock(
    admin, members, credit, count_rows
):
    reward = await define(
        admin, "RARE", kind="GIFT", value=None, minSpend=None, pointsPrice=50, stock=5
    )
    ids = await members(20)
    for member in ids:
        await credit(member, 100)

    results = await asyncio.gather(
        *(exchange(admin, member, reward["id"], f"rare-{member}") for member in ids)
    )

    won = [r for r in results if r["coupon"] is not None]
    lost = [r for r in results if r["coupon"] is None]
    assert len(won) == 5
    assert {e["code"] for r in lost for e in r["userErrors"]} == {"OUT_OF_STOCK"}
    assert await count_rows("SELECT count(*) FROM coupons") == 5
    assert await count_rows("SELECT count(*) FROM ledger_entries WHERE kind = 'REDEEM'") == 5
    assert (
        await count_rows("SELECT sum(balance) FROM points_balances WHERE bucket = 'AVAILABLE'")
        == 20 * 100 - 5 * 50
    )
    assert await count_rows("SELECT stock FROM coupon_templates") == 0


async def test_a_member_exchanges_for_itself_with_its_token_but_not_for_another(
    admin, members, credit, http, graphql_client
):
    reward = await define(admin, "PEN", kind="GIFT", value=None, minSpend=None, pointsPrice=20)
    me, other = await members(2)
    await credit(me, 100)
    await credit(other, 100)
    frontend = await graphql_client("partner", scopes=("members:impersonate",))
    token = (await frontend.data(ISSUE_TOKEN, id=global_id("Member", me)))["issueMemberToken"]
    member_client = GraphQLClient(http, token["token"])

    mine = await exchange(member_client, me, reward["id"], "pen-1")
    theirs = await exchange(member_client, other, reward["id"], "pen-2")

    assert mine["userErrors"] == [] and mine["pointsSpent"] == 20
    assert [e["code"] for e in theirs["userErrors"]] == ["FORBIDDEN"]
    catalogue = (await member_client.data(REWARDS))["rewards"]
    assert catalogue == [{"code": "PEN", "pointsPrice": 20, "stock": None}]

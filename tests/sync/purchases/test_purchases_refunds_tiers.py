"""Refunds and debts, tiers over time, merges moving purchases, and who may write them."""

from __future__ import annotations

from datetime import timedelta

from hub.wiring import tier_programme
from sync.tiers import review_tiers
from tests.conftest import START
from tests.graphql_client import GraphQLClient
from tests.hub.api.members_graphql import MERGE_MEMBERS, UNMERGE, card, created_member, openid
from tests.hub.api.points_graphql import ISSUE_TOKEN, adjust, redeem
from tests.hub.api.purchases_graphql import (
    account,
    assert_ledger_verifies,
    count,
    record,
    refund,
    settle,
)

BY_TIER = "query T($filter: MemberFilter) { members(filter: $filter) { edges { node { id } } } }"


async def test_a_refund_after_the_points_were_spent_leaves_a_debt_that_blocks_redeeming(
    admin, graphql_client, clock, run_in_transaction
):
    till = await graphql_client("pos", store="S001")
    member = await created_member(admin, "POS", card("C-1"))
    await record(till, "R-1", "800.00", memberId=member["id"])
    clock.advance(timedelta(days=1))
    await settle(run_in_transaction, clock.now())
    assert (await redeem(till, member["id"], 80, "spend-1", storeId="S001"))["userErrors"] == []

    returned = await refund(till, "R-1", "RF-1", "800.00", at=clock.now())

    assert returned["pointsClawedBack"] == 80
    assert returned["purchase"]["status"] == "REFUNDED"
    assert (await account(admin, member["id"]))["points"]["available"] == -80
    blocked = await redeem(till, member["id"], 1, "spend-2", storeId="S001")
    assert [e["code"] for e in blocked["userErrors"]] == ["INSUFFICIENT_POINTS"]
    await adjust(admin, member["id"], 100, "repay")
    assert (await redeem(till, member["id"], 20, "spend-3", storeId="S001"))["userErrors"] == []
    stats = (await account(admin, member["id"]))["stats"]
    assert stats["orderCount"] == 0 and stats["totalSpend"] == "0.00"
    await assert_ledger_verifies(run_in_transaction)


async def test_refunds_are_idempotent_and_never_exceed_the_amount_paid(
    admin, graphql_client, run_in_transaction
):
    till = await graphql_client("pos", store="S001")
    member = await created_member(admin, "POS", card("C-2"))
    await record(till, "R-2", "333.00", memberId=member["id"])

    first = await refund(till, "R-2", "RF-1", "100.00")
    retry = await refund(till, "R-2", "RF-1", "100.00")
    reused = await refund(till, "R-2", "RF-1", "50.00")
    too_much = await refund(till, "R-2", "RF-2", "233.01")
    rest = await refund(till, "R-2", "RF-3", "233.00")

    assert first["pointsClawedBack"] == 9 and retry["replayed"] is True  # 33 x 100/333
    assert retry["pointsClawedBack"] == 9
    assert [e["code"] for e in reused["userErrors"]] == ["IDEMPOTENCY_CONFLICT"]
    assert too_much["userErrors"][0]["field"] == ["input", "amount"]
    # 33 points in all: the shares of partial refunds add up to the whole.
    assert rest["pointsClawedBack"] == 24 and rest["purchase"]["status"] == "REFUNDED"
    assert await count(run_in_transaction, "refunds") == 2
    assert (await account(admin, member["id"]))["points"]["pending"] == 0
    await assert_ledger_verifies(run_in_transaction)


async def test_an_upgrade_mid_day_prices_the_next_purchase_and_only_review_downgrades(
    admin, graphql_client, clock, run_in_transaction, settings
):
    till = await graphql_client("pos", store="S001")
    member = await created_member(admin, "POS", card("C-3"))
    first = await record(till, "R-1", "4990.00", memberId=member["id"])
    clock.advance(timedelta(hours=2))
    upgrade = await record(till, "R-2", "20.00", memberId=member["id"], at=clock.now())
    clock.advance(timedelta(hours=2))
    after = await record(till, "R-3", "100.00", memberId=member["id"], at=clock.now())

    assert first["pointsEarned"] == 499 * 1 + 0  # REGULAR
    assert upgrade["pointsEarned"] == 2 * 1  # SILVER then: 1.2 x 2 rounds down to 2
    assert after["pointsEarned"] == 15  # GOLD, 10 x 1.5
    tier = (await account(admin, member["id"]))["tier"]
    assert tier["code"] == "GOLD" and tier["pointsMultiplier"] == "1.5"
    other = await created_member(admin, "POS", card("C-30"))
    gold = (await admin.data(BY_TIER, filter={"tierCode": "GOLD"}))["members"]["edges"]
    regular = (await admin.data(BY_TIER, filter={"tierCode": "REGULAR"}))["members"]["edges"]
    assert [e["node"]["id"] for e in gold] == [member["id"]]
    assert [e["node"]["id"] for e in regular] == [other["id"]]
    assert tier["next"]["code"] == "DIAMOND" and tier["spendToNext"] == "14890.00"

    await refund(till, "R-1", "RF-1", "4990.00", at=clock.now())
    assert (await account(admin, member["id"]))["tier"]["code"] == "GOLD"
    programme = tier_programme(settings)
    changed = await run_in_transaction(
        lambda s: review_tiers(s, now=clock.now(), programme=programme)
    )
    assert changed == 1
    assert (await account(admin, member["id"]))["tier"]["code"] == "REGULAR"
    again = await run_in_transaction(
        lambda s: review_tiers(s, now=clock.now(), programme=programme)
    )
    assert again == 0


async def test_a_late_purchase_earns_at_the_tier_of_its_own_time(admin, graphql_client, clock):
    till = await graphql_client("pos", store="S001")
    member = await created_member(admin, "POS", card("C-4"))
    await record(till, "R-1", "1000.00", memberId=member["id"])
    assert (await account(admin, member["id"]))["tier"]["code"] == "SILVER"

    clock.advance(timedelta(days=3))
    late = await record(till, "R-0", "100.00", memberId=member["id"], at=START - timedelta(days=1))
    fresh = await record(till, "R-2", "100.00", memberId=member["id"], at=clock.now())

    assert late["pointsEarned"] == 10 and fresh["pointsEarned"] == 12


async def test_a_merge_moves_purchases_and_stats_and_unmerge_moves_them_back(admin, graphql_client):
    till = await graphql_client("pos", store="S001")
    older = await created_member(admin, "MINI_PROGRAM", openid("o-1"))
    newer = await created_member(admin, "POS", card("C-5"))
    await record(till, "R-1", "100.00", memberId=older["id"])
    await record(till, "R-2", "300.00", memberId=newer["id"])

    merged = (
        await admin.data(
            MERGE_MEMBERS, survivor=older["id"], merged=newer["id"], reason="same person"
        )
    )["mergeMembers"]["merge"]
    together = (await account(admin, older["id"]))["stats"]
    await admin.data(UNMERGE, merge=merged["id"], reason="not the same person")
    apart = [(await account(admin, m["id"]))["stats"] for m in (older, newer)]

    assert together["orderCount"] == 2 and together["totalSpend"] == "400.00"
    assert [s["totalSpend"] for s in apart] == ["100.00", "300.00"]
    assert [s["orderCount"] for s in apart] == [1, 1]


async def test_who_may_write_purchases(admin, graphql_client, run_in_transaction):
    till = await graphql_client("pos", store="S001")
    partner = await graphql_client("partner")
    granted = await graphql_client("partner", scopes=("purchases:write",))
    member = await created_member(admin, "MINI_PROGRAM", openid("o-9"))
    other = await created_member(admin, "MINI_PROGRAM", openid("o-10"))
    frontend = await graphql_client("partner", scopes=("members:impersonate",))
    token = (await frontend.data(ISSUE_TOKEN, id=member["id"]))["issueMemberToken"]["token"]
    own = GraphQLClient(till.http, token)

    elsewhere = await record(till, "R-1", "10.00", store="S002", memberId=member["id"])
    refused = await record(partner, "R-2", "10.00", memberId=member["id"])
    allowed = await record(granted, "R-3", "10.00", memberId=member["id"])
    online = await record(own, "R-4", "10.00", memberId=member["id"], channel="MINI_PROGRAM")
    for_other = await record(own, "R-5", "10.00", memberId=other["id"], channel="WEB")
    at_till = await record(own, "R-6", "10.00", memberId=member["id"], channel="POS")

    assert elsewhere["userErrors"][0]["code"] == "FORBIDDEN"
    assert refused["userErrors"][0]["code"] == "FORBIDDEN"
    assert allowed["userErrors"] == []
    # A member's own word is no evidence of a sale: the till or the shop's server reports it.
    for by_member in (online, for_other, at_till):
        assert by_member["userErrors"][0]["code"] == "FORBIDDEN"
    assert await count(run_in_transaction, "purchases") == 1

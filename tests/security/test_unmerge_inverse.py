"""Unmerge is a full inverse of a merge, over real HTTP: tags, purchases, clawbacks and
points come back, and what the survivor spent of the returning member is settled."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from tests.hub.api.members_graphql import MERGE_MEMBERS, UNMERGE, card, created_member
from tests.hub.api.points_graphql import adjust, points_of, redeem
from tests.hub.api.purchases_graphql import assert_ledger_verifies, record, refund

DEFINE_TAG = """
mutation Tag($input: TagInput!) { defineTag(input: $input) { tag { id } userErrors { code } } }
"""
TAG_MEMBER = """
mutation TagMember($member: ID!, $tag: ID!) {
  tagMember(memberId: $member, tagId: $tag) { userErrors { code } }
}
"""
MEMBER = """
query Member($id: ID!) {
  node(id: $id) {
    ... on Member {
      tags { tag { name } source }
      points { available pending lifetimeEarned }
      purchases(first: 10) { edges { node { receiptNo } } }
    }
  }
}
"""
MERGE = """
query Merge($id: ID!) { node(id: $id) { ... on Merge { undoneAt shortfallPoints } } }
"""


async def merge(admin: Any, survivor: str, merged: str) -> str:
    payload = (await admin.data(MERGE_MEMBERS, survivor=survivor, merged=merged, reason="dup"))[
        "mergeMembers"
    ]
    assert payload["userErrors"] == [], payload
    return payload["merge"]["id"]


async def own(admin: Any, member_id: str) -> dict[str, Any]:
    return (await admin.data(MEMBER, id=member_id))["node"]


async def test_lifetime_earned_counts_merged_in_points(live_client):
    admin = await live_client("admin")
    survivor = await created_member(admin, "POS", card("S-1", "pos-a"))
    merged = await created_member(admin, "POS", card("M-1", "pos-b"))
    await adjust(admin, survivor["id"], 200, "s-grant")
    await adjust(admin, merged["id"], 1_000, "m-grant")

    done = await merge(admin, survivor["id"], merged["id"])
    while_merged = (await own(admin, survivor["id"]))["points"]["lifetimeEarned"]
    await admin.data(UNMERGE, merge=done, reason="two people")
    after = (await own(admin, survivor["id"]))["points"]["lifetimeEarned"]

    assert while_merged == 1_200
    assert after == 200


async def test_unmerge_returns_tags_clawbacks_and_settles_what_was_spent(
    live_client, run_in_transaction
):
    admin = await live_client("admin")
    till = await live_client("pos", store="S001")
    now = datetime.now(UTC)
    survivor = await created_member(admin, "POS", card("S-1", "pos-a"))
    merged = await created_member(admin, "POS", card("M-1", "pos-b"))
    tag = (await admin.data(DEFINE_TAG, input={"name": "vip-by-hand"}))["defineTag"]["tag"]
    await admin.data(TAG_MEMBER, member=merged["id"], tag=tag["id"])
    await adjust(admin, merged["id"], 1_000, "m-grant")
    bought = await record(till, "R-1", "100.00", memberId=merged["id"], at=now)
    assert bought["userErrors"] == [] and bought["pointsEarned"] == 10

    done = await merge(admin, survivor["id"], merged["id"])
    refunded = await refund(till, "R-1", "RF-1", "100.00", at=now)
    assert refunded["pointsClawedBack"] == 10
    spent = await redeem(admin, survivor["id"], 600, "spend-merged")
    assert spent["userErrors"] == []
    undone = (await admin.data(UNMERGE, merge=done, reason="two people"))["unmerge"]

    assert undone["userErrors"] == []
    back, kept = await own(admin, merged["id"]), await own(admin, survivor["id"])
    assert back["tags"] == [{"tag": {"name": "vip-by-hand"}, "source": "MANUAL"}]
    assert kept["tags"] == []
    assert [e["node"]["receiptNo"] for e in back["purchases"]["edges"]] == ["R-1"]
    # The returning member is whole: its 1,000 points, less the refunded purchase's 10
    # (its pending 10 come back with it and its clawback follows it).
    assert back["points"]["available"] + back["points"]["pending"] == 1_000
    assert back["points"]["lifetimeEarned"] == 1_000
    # The survivor owes what it spent of the returning member's points.
    assert kept["points"]["available"] == -600
    assert kept["points"]["lifetimeEarned"] == 0
    settled = (await admin.data(MERGE, id=done))["node"]
    assert settled["shortfallPoints"] > 0
    clawbacks = await points_of(admin, merged["id"], kinds=["CLAWBACK"])
    assert [e["node"]["amount"] for e in clawbacks["history"]["edges"]] == [-10]
    settlement = await points_of(admin, survivor["id"], kinds=["MERGE_IN"])
    assert any(
        e["node"]["amount"] == -settled["shortfallPoints"] for e in settlement["history"]["edges"]
    )
    await assert_ledger_verifies(run_in_transaction)


async def test_purchases_made_with_the_returning_members_card_go_back_with_it(
    live_client, run_in_transaction
):
    admin = await live_client("admin")
    till = await live_client("pos", store="S001")
    now = datetime.now(UTC)
    survivor = await created_member(admin, "POS", card("S-1", "pos-a"))
    merged = await created_member(admin, "POS", card("M-1", "pos-b"))
    done = await merge(admin, survivor["id"], merged["id"])

    with_theirs = await record(till, "R-2", "50.00", identities=[card("M-1", "pos-b")], at=now)
    with_own = await record(till, "R-3", "70.00", identities=[card("S-1", "pos-a")], at=now)
    assert with_theirs["purchase"]["member"]["id"] == survivor["id"]
    assert with_own["purchase"]["member"]["id"] == survivor["id"]
    undone = (await admin.data(UNMERGE, merge=done, reason="two people"))["unmerge"]

    assert undone["userErrors"] == []
    back, kept = await own(admin, merged["id"]), await own(admin, survivor["id"])
    assert [e["node"]["receiptNo"] for e in back["purchases"]["edges"]] == ["R-2"]
    assert [e["node"]["receiptNo"] for e in kept["purchases"]["edges"]] == ["R-3"]
    assert (back["points"]["pending"], back["points"]["lifetimeEarned"]) == (5, 5)
    assert (kept["points"]["pending"], kept["points"]["lifetimeEarned"]) == (7, 7)
    await assert_ledger_verifies(run_in_transaction)

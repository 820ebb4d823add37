"""The till's lookup: a member by identity or ID with tier and points, in one read."""

from __future__ import annotations

from datetime import timedelta

from tests.hub.api.members_graphql import MERGE_MEMBERS, card, created_member, openid, phone
from tests.hub.api.points_graphql import adjust
from tests.hub.api.purchases_graphql import record
from tests.statements import counted_statements

ACCOUNT = "id tier { code name since pointsMultiplier } points { available pending lifetimeEarned }"
BY_IDENTITY = (
    f"query L($identity: IdentityInput!) {{ member(identity: $identity) {{ {ACCOUNT} }} }}"
)
BY_ID = f"query M($id: ID!) {{ member(id: $id) {{ {ACCOUNT} }} }}"
#: ``node`` reads each field through the loaders: what the one-statement lookups must match.
BY_NODE = f"query N($id: ID!) {{ node(id: $id) {{ ... on Member {{ {ACCOUNT} }} }} }}"


async def test_lookups_by_identity_and_id_answer_as_the_fields_read_one_by_one(
    admin, graphql_client, clock
):
    till = await graphql_client("pos", store="S001")
    gold = await created_member(admin, "POS", card("C-1"), phone("13800000001"))
    await record(till, "R-1", "4990.00", memberId=gold["id"])
    clock.advance(timedelta(hours=1))
    await record(till, "R-2", "200.00", memberId=gold["id"], at=clock.now())
    await adjust(admin, gold["id"], 40, "goodwill-1")
    plain = await created_member(admin, "WEB", openid("o-2"))

    answers = {
        (who, identity["type"]): (await admin.data(BY_IDENTITY, identity=identity))["member"]
        for who, identity in (
            ("gold", {"type": "PHONE", "value": "+86 138 0000 0001"}),
            ("gold", {"type": "POS_CARD", "namespace": "pos-chain", "value": "C-1"}),
            ("plain", {"type": "WECHAT_OPENID", "namespace": "wx-app-1", "value": "o-2"}),
        )
    }
    by_id = {
        who: (await admin.data(BY_ID, id=member["id"]))["member"]
        for who, member in (("gold", gold), ("plain", plain))
    }
    by_node = {
        who: (await admin.data(BY_NODE, id=member["id"]))["node"]
        for who, member in (("gold", gold), ("plain", plain))
    }
    unknown = await admin.data(BY_IDENTITY, identity={"type": "PHONE", "value": "13900000000"})
    merged = await created_member(admin, "WEB", openid("o-3"))
    merge = await admin.data(MERGE_MEMBERS, survivor=gold["id"], merged=merged["id"], reason="dup")
    via_merged = (await admin.data(BY_ID, id=merged["id"]))["member"]

    assert answers[("gold", "PHONE")] == answers[("gold", "POS_CARD")] == by_node["gold"]
    assert answers[("plain", "WECHAT_OPENID")] == by_node["plain"]
    assert by_id == by_node
    assert merge["mergeMembers"]["userErrors"] == []
    assert via_merged == by_node["gold"]
    assert by_id["gold"]["tier"]["code"] == "GOLD"
    # The sign-up bonus for a verified phone, 100, and 40 by hand are available; 499 at
    # REGULAR and 24 at SILVER (1.2 x 20) are pending until settlement.
    gold_points = {"available": 140, "pending": 499 + 24, "lifetimeEarned": 140 + 523}
    assert by_id["gold"]["points"] == gold_points
    assert by_id["plain"]["tier"]["code"] == "REGULAR"
    assert by_id["plain"]["points"] == {"available": 0, "pending": 0, "lifetimeEarned": 0}
    assert unknown == {"member": None}


async def test_a_lookup_with_tier_and_points_is_one_statement(admin, engine, app):
    member = await created_member(admin, "POS", card("C-1"), phone("13800000001"))
    await adjust(admin, member["id"], 25, "goodwill-1")
    identity = {"type": "POS_CARD", "namespace": "pos-chain", "value": "C-1"}

    with counted_statements(engine, app.state.hub.reads) as by_identity:
        found = (await admin.data(BY_IDENTITY, identity=identity))["member"]
    with counted_statements(engine, app.state.hub.reads) as by_id:
        await admin.data(BY_ID, id=member["id"])
    await adjust(admin, member["id"], 5, "goodwill-2")
    again = (await admin.data(BY_IDENTITY, identity=identity))["member"]

    assert found["points"]["available"] == 125 and again["points"]["available"] == 130
    # Besides the key's own lookup (tests cache no keys): the member, tier and balances.
    assert len([s for s in by_identity if "api_clients" not in s]) == 1
    assert len([s for s in by_id if "api_clients" not in s]) == 1


ITEM = {"sku": "TEA-1", "category": "tea", "quantity": 1, "unitPrice": "50.00"}
PROFILE = """
query P($identity: IdentityInput!) { member(identity: $identity) {
  id identities { type } merges { id }
  points {
    expiringSoon(withinDays: 400) { points }
    history(first: 2) { edges { node { amount } } }
  }
  purchases(first: 2) { edges { node { amount items { sku } } } }
} }
"""


async def test_a_members_profile_is_read_without_opening_a_session(
    admin, graphql_client, engine, app
):
    till = await graphql_client("pos", store="S001")
    member = await created_member(admin, "POS", card("C-1"), phone("13800000001"))
    await record(till, "R-1", "50.00", memberId=member["id"], items=[ITEM])
    await adjust(admin, member["id"], 25, "goodwill-1")
    identity = {"type": "POS_CARD", "namespace": "pos-chain", "value": "C-1"}

    with counted_statements(engine) as on_sessions:
        profile = (await admin.data(PROFILE, identity=identity))["member"]

    assert [i["type"] for i in profile["identities"]] == ["POS_CARD", "PHONE"]
    assert [e["node"]["amount"] for e in profile["points"]["history"]["edges"]] == [25, 5]
    assert profile["purchases"]["edges"][0]["node"]["items"] == [{"sku": "TEA-1"}]
    # Every loader reads on the read pool: the sessions' engine sees only the key lookup.
    assert [s for s in on_sessions if "api_clients" not in s] == []

"""Tags, segments, the refresh and the dashboard through the API."""

from __future__ import annotations

from decimal import Decimal

from sqlalchemy import text

from tests.conftest import START
from tests.hub.api.members_graphql import card, created_member, openid
from tests.hub.api.points_graphql import adjust, redeem
from tests.hub.api.purchases_graphql import record, refund

MEMBER_INTELLIGENCE = """
query Member($id: ID!) {
  member(id: $id) {
    lifecycle
    rfm { recencyDays frequency monetary r f m segment computedAt }
    tags { tag { id name } source taggedAt }
    segments { id name kind }
  }
}
"""

DEFINE_SEGMENT = """
mutation Define($input: SegmentInput!) {
  defineSegment(input: $input) {
    segment {
      id name kind description memberCount refreshedAt
      members(first: 1) { totalCount edges { node { id } } pageInfo { hasNextPage endCursor } }
    }
    userErrors { code field message }
  }
}
"""

SEGMENT_PAGE = """
query Page($id: ID!, $after: String) {
  segment(id: $id) { members(first: 1, after: $after) { edges { node { id } } } }
}
"""

DEFINE_TAG = """
mutation Tag($input: TagInput!) {
  defineTag(input: $input) {
    tag { id name description source memberCount }
    userErrors { code field message }
  }
}
"""

TAG_MEMBER = """
mutation T($member: ID!, $tag: ID!) {
  tagMember(memberId: $member, tagId: $tag) {
    member { id tags { tag { name } source } }
    userErrors { code field }
  }
}
"""

UNTAG_MEMBER = """
mutation U($member: ID!, $tag: ID!) {
  untagMember(memberId: $member, tagId: $tag) {
    member { id tags { tag { name } } }
    userErrors { code field }
  }
}
"""

LISTS = "{ tags { name source } segments { name kind } }"

REFRESH = """
mutation {
  refreshMemberIntelligence {
    scoredMembers segmentsRefreshed tagsRefreshed membershipChanges durationMs
    userErrors { code }
  }
}
"""

FILTERED = """
query Filtered($filter: MemberFilter) {
  members(filter: $filter, first: 50) { totalCount edges { node { id } } }
}
"""

DASHBOARD = """
query Dashboard($from: Date!, $to: Date!, $store: ID) {
  dashboard(from: $from, to: $to, storeId: $store) {
    from to members newMembers activeMembers repurchaseRate averageOrderValue revenue
    pointsIssued pointsRedeemed pointsExpired pointsOutstanding
    tiers { key count } rfm { key count } lifecycle { key count } channels { key count }
  }
}
"""

PURCHASE_PAGE = """
query P($id: ID!, $after: String) {
  member(id: $id) { purchases(first: 2, after: $after) {
    edges { node { receiptNo } } pageInfo { hasNextPage endCursor } } }
}
"""


def condition(field: str, op: str, *values: str, within: int | None = None) -> dict:  # type:
    # ignore[type-arg]
    return {"condition": {"field": field, "op": op, "values": list(values), "withinDays": within}}


async def test_segments_and_tags_from_definition_to_member(admin, graphql_client, clock):
    till = await graphql_client("pos", store="S001")
    big = await created_member(admin, "POS", card("C-1"))
    small = await created_member(admin, "MINI_PROGRAM", openid("o-2"))
    await record(till, "R-1", "900.00", memberId=big["id"])
    await record(till, "R-2", "800.00", memberId=big["id"])
    await record(till, "R-3", "20.00", memberId=small["id"])

    defined = (
        await admin.data(
            DEFINE_SEGMENT,
            input={
                "name": "Big spenders",
                "description": "1,000 yuan in 30 days",
                "rule": condition("TOTAL_SPEND", "GTE", "1000", within=30),
            },
        )
    )["defineSegment"]
    tag = (await admin.data(DEFINE_TAG, input={"name": "vip", "description": "hand-picked"}))[
        "defineTag"
    ]["tag"]
    rule_tag = (
        await admin.data(
            DEFINE_TAG,
            input={"name": "buyers", "rule": condition("PURCHASE_COUNT", "GTE", "1")},
        )
    )["defineTag"]["tag"]
    tagged = (await admin.data(TAG_MEMBER, member=small["id"], tag=tag["id"]))["tagMember"]
    not_manual = (await admin.data(TAG_MEMBER, member=small["id"], tag=rule_tag["id"]))["tagMember"]

    segment = defined["segment"]
    assert defined["userErrors"] == []
    assert (segment["name"], segment["kind"], segment["memberCount"]) == ("Big spenders", "RULE", 1)
    assert segment["members"]["edges"] == [{"node": {"id": big["id"]}}]
    assert segment["members"]["totalCount"] == 1 and segment["refreshedAt"] is not None
    assert tag["source"] == "MANUAL" and rule_tag["source"] == "RULE"
    assert rule_tag["memberCount"] == 2
    assert {(t["tag"]["name"], t["source"]) for t in tagged["member"]["tags"]} == {
        ("vip", "MANUAL"),
        ("buyers", "RULE"),
    }
    assert not_manual["userErrors"] == [{"code": "INVALID_INPUT", "field": ["tagId"]}]
    view = (await admin.data(MEMBER_INTELLIGENCE, id=big["id"]))["member"]
    assert [s["name"] for s in view["segments"]] == ["Big spenders"]
    assert view["lifecycle"] == "NEW" and view["rfm"] is None
    by_tag = (await admin.data(FILTERED, filter={"tagId": tag["id"]}))["members"]
    by_segment = (await admin.data(FILTERED, filter={"segmentId": segment["id"]}))["members"]
    assert [e["node"]["id"] for e in by_tag["edges"]] == [small["id"]]
    assert by_segment["totalCount"] == 1

    untagged = (await admin.data(UNTAG_MEMBER, member=small["id"], tag=tag["id"]))["untagMember"]
    assert [t["tag"]["name"] for t in untagged["member"]["tags"]] == ["buyers"]
    page = await admin.data(SEGMENT_PAGE, id=segment["id"], after=None)
    assert page["segment"]["members"]["edges"] == [{"node": {"id": big["id"]}}]


async def test_bad_rules_and_names_are_user_errors(admin, graphql_client):
    await admin.data(REFRESH)
    bad_rule = (
        await admin.data(
            DEFINE_SEGMENT,
            input={"name": "x", "rule": condition("LIFECYCLE", "GT", "NEW")},
        )
    )["defineSegment"]
    builtin = (await admin.data(DEFINE_TAG, input={"name": "high-value"}))["defineTag"]
    partner = await graphql_client("partner")
    forbidden = (await partner.data(DEFINE_TAG, input={"name": "mine"}))["defineTag"]

    assert bad_rule["userErrors"][0]["field"] == ["input", "rule", "condition", "op"]
    assert builtin["userErrors"][0]["field"] == ["input", "name"]
    assert forbidden["userErrors"][0]["code"] == "FORBIDDEN"


async def test_the_refresh_scores_members_and_fills_the_built_in_segments(admin, graphql_client):
    till = await graphql_client("pos", store="S001")
    members = [await created_member(admin, "POS", card(f"C-{n}")) for n in range(3)]
    for n, member in enumerate(members):
        for k in range(n + 1):
            await record(till, f"R-{n}-{k}", f"{(n + 1) * 100}.00", memberId=member["id"])

    report = (await admin.data(REFRESH))["refreshMemberIntelligence"]
    lists = await admin.data(LISTS)
    view = (await admin.data(MEMBER_INTELLIGENCE, id=members[2]["id"]))["member"]
    by_rfm = await admin.data(FILTERED, filter={"rfmSegment": view["rfm"]["segment"]})
    by_stage = (await admin.data(FILTERED, filter={"lifecycle": "NEW"}))["members"]

    assert report["scoredMembers"] == 3 and report["userErrors"] == []
    assert report["segmentsRefreshed"] == 8  # the built-in RFM segments
    assert report["tagsRefreshed"] >= 4 and report["membershipChanges"] >= 3
    assert report["durationMs"] >= 0
    assert {s["kind"] for s in lists["segments"]} == {"RFM"}
    assert {"weekend-shopper", "price-sensitive", "high-value"} <= {
        t["name"] for t in lists["tags"]
    }
    assert view["rfm"] == {
        "recencyDays": 0,
        "frequency": 3,
        "monetary": "900.00",
        "r": 5,
        "f": 5,
        "m": 5,
        # Everyone bought today: no recency is below the mean, so nobody counts as recent.
        "segment": "IMPORTANT_KEEP",
        "computedAt": view["rfm"]["computedAt"],
    }
    assert [s["name"] for s in view["segments"]] == ["RFM: Important to keep"]
    assert by_rfm["members"]["totalCount"] == 1
    assert by_stage["totalCount"] == 3


async def test_dashboard_figures_equal_sums_over_the_same_rows(
    admin, graphql_client, clock, run_in_transaction
):
    till = await graphql_client("pos", store="S001")
    online = await graphql_client("pos", store="WEB-1")
    first = await created_member(admin, "POS", card("C-1"))
    second = await created_member(admin, "MINI_PROGRAM", openid("o-1"))
    await record(till, "R-1", "100.00", memberId=first["id"])
    await record(till, "R-2", "300.00", memberId=first["id"])
    await record(online, "W-1", "50.00", memberId=second["id"], store="WEB-1")
    await refund(till, "R-2", "RF-1", "100.00")
    await adjust(admin, first["id"], 500, "bonus")
    await redeem(till, first["id"], 120, "spend", storeId="S001")
    await admin.data(REFRESH)
    day = START.date().isoformat()

    whole = (await admin.data(DASHBOARD, **{"from": day, "to": day}))["dashboard"]
    store = (await admin.data(DASHBOARD, **{"from": day, "to": day, "store": "S001"}))["dashboard"]

    sums = (
        await run_in_transaction(
            lambda s: s.execute(
                text(
                    "SELECT (SELECT sum(amount - refunded_amount) FROM purchases) AS revenue,"
                    " (SELECT sum(amount) FROM ledger_entries WHERE amount > 0"
                    "  AND kind IN ('EARN', 'BONUS', 'ADJUST')) AS issued,"
                    " (SELECT sum(balance) FROM points_balances"
                    "  WHERE bucket IN ('AVAILABLE', 'PENDING')) AS outstanding"
                )
            )
        )
    ).one()
    assert Decimal(whole["revenue"]) == sums.revenue == Decimal("350.00")
    assert whole["pointsIssued"] == sums.issued and whole["pointsRedeemed"] == 120
    assert whole["pointsOutstanding"] == sums.outstanding and whole["pointsExpired"] == 0
    assert (whole["members"], whole["newMembers"], whole["activeMembers"]) == (2, 2, 2)
    assert whole["repurchaseRate"] == 0.5
    assert whole["averageOrderValue"] == "116.67"  # 350 over 3 orders
    assert store["revenue"] == "300.00" and store["activeMembers"] == 1
    assert (whole["from"], whole["to"]) == (day, day)
    assert {c["key"]: c["count"] for c in whole["channels"]} == {"MINI_PROGRAM": 1, "POS": 1}
    assert {c["key"]: c["count"] for c in whole["tiers"]} == {"REGULAR": 2}
    assert sum(c["count"] for c in whole["rfm"]) == 2
    assert {c["key"]: c["count"] for c in whole["lifecycle"]} == {"NEW": 2}


async def test_purchases_page_through_a_cursor(admin, graphql_client):
    till = await graphql_client("pos", store="S001")
    member = await created_member(admin, "POS", card("C-9"))
    for n in range(3):
        await record(till, f"R-{n}", "10.00", memberId=member["id"])

    first = (await admin.data(PURCHASE_PAGE, id=member["id"], after=None))["member"]["purchases"]
    rest = (await admin.data(PURCHASE_PAGE, id=member["id"], after=first["pageInfo"]["endCursor"]))[
        "member"
    ]["purchases"]

    assert [e["node"]["receiptNo"] for e in first["edges"]] == ["R-2", "R-1"]
    assert first["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["receiptNo"] for e in rest["edges"]] == ["R-0"]
    assert rest["pageInfo"]["hasNextPage"] is False

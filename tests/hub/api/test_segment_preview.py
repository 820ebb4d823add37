"""``previewSegment``: how many members a rule selects now, without saving anything."""

from __future__ import annotations

from sqlalchemy import text

from tests.hub.api.members_graphql import card, created_member, openid
from tests.hub.api.purchases_graphql import record

PREVIEW = """
query Preview($rule: SegmentRuleInput!) {
  previewSegment(rule: $rule) { totalCount edges { node { id } } pageInfo { hasNextPage } }
}
"""


def condition(field: str, op: str, *values: str) -> dict:  # type: ignore[type-arg]
    return {"condition": {"field": field, "op": op, "values": list(values)}}


async def test_preview_counts_the_members_a_rule_selects_and_writes_nothing(
    admin, graphql_client, engine
):
    till = await graphql_client("pos", store="S001")
    big = await created_member(admin, "POS", card("C-1"))
    small = await created_member(admin, "MINI_PROGRAM", openid("o-2"))
    await created_member(admin, "MINI_PROGRAM", openid("o-3"))
    await record(till, "R-1", "900.00", memberId=big["id"])
    await record(till, "R-2", "20.00", memberId=small["id"])

    buyers = (await admin.data(PREVIEW, rule=condition("PURCHASE_COUNT", "GTE", "1")))[
        "previewSegment"
    ]
    big_buyers = (
        await admin.data(
            PREVIEW,
            rule={
                "all": [
                    condition("PURCHASE_COUNT", "GTE", "1"),
                    {"not": condition("TOTAL_SPEND", "LT", "100")},
                ]
            },
        )
    )["previewSegment"]

    assert buyers["totalCount"] == 2
    assert {e["node"]["id"] for e in buyers["edges"]} == {big["id"], small["id"]}
    assert big_buyers["totalCount"] == 1
    assert big_buyers["edges"] == [{"node": {"id": big["id"]}}]
    async with engine.connect() as connection:
        assert (
            await connection.scalar(text("SELECT count(*) FROM segments WHERE kind = 'RULE'")) == 0
        )


async def test_a_bad_rule_is_invalid_input_and_a_key_without_members_read_is_forbidden(
    admin, graphql_client
):
    bad = await admin.execute(PREVIEW, rule=condition("LIFECYCLE", "GT", "NEW"))
    frontend = await graphql_client("frontend")
    refused = await frontend.execute(PREVIEW, rule=condition("PURCHASE_COUNT", "GTE", "1"))

    assert bad["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert refused["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def test_the_preview_pages_like_any_connection(admin, graphql_client):
    till = await graphql_client("pos", store="S001")
    buyers = []
    for n in range(3):
        member = await created_member(admin, "POS", card(f"C-{n}"))
        await record(till, f"R-{n}", "50.00", memberId=member["id"])
        buyers.append(member["id"])
    page = """
    query Page($rule: SegmentRuleInput!, $after: String) {
      previewSegment(rule: $rule, first: 2, after: $after) {
        totalCount edges { node { id } } pageInfo { hasNextPage endCursor }
      }
    }
    """
    rule = condition("PURCHASE_COUNT", "GTE", "1")

    one = (await admin.data(page, rule=rule, after=None))["previewSegment"]
    two = (await admin.data(page, rule=rule, after=one["pageInfo"]["endCursor"]))["previewSegment"]
    nobody = (await admin.data(PREVIEW, rule=condition("PURCHASE_COUNT", "GTE", "9")))[
        "previewSegment"
    ]

    assert [e["node"]["id"] for e in one["edges"] + two["edges"]] == buyers
    assert one["pageInfo"]["hasNextPage"] and not two["pageInfo"]["hasNextPage"]
    assert one["totalCount"] == two["totalCount"] == 3
    assert nobody == {"totalCount": 0, "edges": [], "pageInfo": {"hasNextPage": False}}

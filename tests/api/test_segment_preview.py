"""``previewSegment``: how many members a rule selects now, without saving anything."""

from __future__ import annotations

from sqlalchemy import text

from tests.api.members_graphql import card, created_member, openid
from tests.api.purchases_graphql import record

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

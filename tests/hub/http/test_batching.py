"""No N+1: a page of members with every list field costs the same statements for 5 or 50."""

from __future__ import annotations

from tests.hub.api.members_graphql import card, created_member, phone
from tests.hub.api.points_graphql import adjust
from tests.hub.api.purchases_graphql import record
from tests.statements import counted_statements

PAGE = """
query Page($first: Int!) {
  members(first: $first) {
    edges { node {
      tier { code }
      points { available pending }
      tags { tag { name } }
      identities { type }
      stats { orderCount }
      rfm { segment }
    } }
  }
}
"""

RULE_TAG = """
mutation { defineTag(input: {name: "buyers", rule: {condition:
  {field: PURCHASE_COUNT, op: GTE, values: ["1"]}}}) { tag { id } } }
"""

REFRESH = "mutation { refreshMemberIntelligence { scoredMembers } }"


async def test_a_page_of_5_and_of_50_members_cost_the_same_statements(
    admin, graphql_client, engine, app
):
    till = await graphql_client("pos", store="S001")
    for n in range(50):
        member = await created_member(admin, "POS", card(f"C-{n}"), phone(f"1390000{n:04d}"))
        await record(till, f"R-{n}", f"{100 + n}.00", memberId=member["id"])
        await adjust(admin, member["id"], 10, f"grant-{n}")
    await admin.data(RULE_TAG)
    await admin.data(REFRESH)

    with counted_statements(engine, app.state.hub.reads) as five:
        small = (await admin.data(PAGE, first=5))["members"]["edges"]
    with counted_statements(engine, app.state.hub.reads) as fifty:
        large = (await admin.data(PAGE, first=50))["members"]["edges"]

    assert len(small) == 5 and len(large) == 50
    assert all(e["node"]["tags"] == [{"tag": {"name": "buyers"}}] for e in large)
    assert all(
        e["node"]["rfm"] is not None and e["node"]["stats"]["orderCount"] == 1 for e in large
    )
    assert all(e["node"]["points"]["available"] == 110 for e in large)  # bonus 100 + 10
    assert len(fifty) == len(five)

"""The members connection: stable cursors, totalCount, the channel filter, no N+1."""

from __future__ import annotations

from tests.hub.api.members_graphql import MERGE_MEMBERS, card, created_member, phone
from tests.statements import counted_statements

MEMBERS = """
query Members($first: Int, $after: String, $filter: MemberFilter) {
  members(first: $first, after: $after, filter: $filter) {
    totalCount
    pageInfo { hasNextPage endCursor }
    edges { cursor node { id registeredChannel identities { value } merges { merged { id } } } }
  }
}
"""


async def test_pages_follow_stable_cursors_and_skip_merged_members(admin):
    ids = [(await created_member(admin, "POS", card("C-1", f"pos-{n}")))["id"] for n in range(5)]
    await admin.data(MERGE_MEMBERS, survivor=ids[0], merged=ids[1], reason="dup")

    first = (await admin.data(MEMBERS, first=2))["members"]
    # A member created between pages does not shift the next page.
    newest = await created_member(admin, "WEB", phone("13800138000"))
    second = (await admin.data(MEMBERS, first=2, after=first["pageInfo"]["endCursor"]))["members"]
    third = (await admin.data(MEMBERS, first=2, after=second["pageInfo"]["endCursor"]))["members"]

    assert first["totalCount"] == 4
    assert [e["node"]["id"] for e in first["edges"]] == [ids[0], ids[2]]
    assert first["edges"][0]["node"]["merges"] == [{"merged": {"id": ids[1]}}]
    assert [e["node"]["id"] for e in second["edges"]] == [ids[3], ids[4]]
    assert second["totalCount"] == 5 and second["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["id"] for e in third["edges"]] == [newest["id"]]
    assert third["pageInfo"]["hasNextPage"] is False


async def test_filter_by_registered_channel(admin):
    await created_member(admin, "POS", card("C-1"))
    web = await created_member(admin, "WEB", phone("13800138000"))

    page = (await admin.data(MEMBERS, filter={"registeredChannel": "WEB"}))["members"]

    assert page["totalCount"] == 1
    assert [e["node"]["id"] for e in page["edges"]] == [web["id"]]


async def test_a_page_costs_the_same_statements_however_long_it_is(admin, engine, app):
    for n in range(12):
        await created_member(admin, "POS", card(f"C-{n}"), phone(f"1380013{n:04d}"))

    with counted_statements(engine, app.state.hub.reads) as small:
        await admin.data(MEMBERS, first=2)
    with counted_statements(engine, app.state.hub.reads) as large:
        await admin.data(MEMBERS, first=12)

    assert len(large) == len(small)


async def test_bad_page_arguments_are_errors(admin, graphql_client):
    negative = await admin.execute(MEMBERS, first=-1)
    bad_cursor = await admin.execute(MEMBERS, after="nonsense")
    frontend = await graphql_client("frontend")
    forbidden = await frontend.execute(MEMBERS)

    assert negative["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert bad_cursor["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"

"""Benefits over real HTTP: who may do what, and edge inputs refused with nothing written."""

from __future__ import annotations

from tests.graphql_client import GraphQLClient
from tests.hub.api.points_graphql import ISSUE_TOKEN
from tests.ledger.benefits.benefits_graphql import (
    DEFINE,
    QUOTE,
    define,
    exchange,
    global_id,
    issue,
    template_input,
    wallet,
)


async def test_over_http_an_operator_issues_a_member_exchanges_and_a_till_quotes(
    live_client, live_http, members, credit, count_rows
):
    admin = await live_client("admin")
    till = await live_client("pos", store="S001")
    frontend = await live_client("partner", scopes=("members:impersonate",))
    me, other = await members(2)
    await credit(me, 1000)
    birthday = await define(admin, "BDAY-50")
    reward = await define(
        admin, "SHIP", kind="FREE_SHIPPING", value=None, minSpend=None, pointsPrice=200, stock=10
    )
    token = (await frontend.data(ISSUE_TOKEN, id=global_id("Member", me)))["issueMemberToken"]
    member = GraphQLClient(live_http, token["token"])

    issued = await issue(admin, birthday["id"], "bday", members=[me, other])
    exchanged = await exchange(member, me, reward["id"], "ship-1")
    codes = [e["node"]["code"] for e in (await wallet(member, me))["coupons"]["edges"]]
    quotes = (
        await till.data(
            QUOTE,
            member=global_id("Member", me),
            codes=codes,
            store="S001",
            channel="POS",
            amount="250.00",
        )
    )["quoteCoupons"]

    assert (issued["issued"], exchanged["pointsSpent"]) == (2, 200)
    assert [(q["usable"], q["discount"]) for q in quotes] == [(True, "0.00"), (True, "50.00")]
    # A member token neither issues coupons nor defines templates nor reads others' wallets.
    refused = await issue(member, birthday["id"], "mine", members=[me])
    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    body = await member.execute(DEFINE, input=template_input("MINE"))
    assert [e["code"] for e in body["data"]["defineCouponTemplate"]["userErrors"]] == ["FORBIDDEN"]
    theirs = await member.execute(
        QUOTE,
        member=global_id("Member", other),
        codes=codes,
        store="S001",
        channel="POS",
        amount="1.00",
    )
    assert theirs["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert await count_rows("SELECT count(*) FROM coupons") == 3


async def test_over_http_edge_inputs_are_refused_with_nothing_written(
    live_client, members, count_rows
):
    admin = await live_client("admin")
    template = await define(admin, "EDGE")
    (me,) = await members(1)

    legit = await issue(admin, template["id"], "e-1", members=[me])
    bad_member = (
        await admin.data(
            """mutation($input: IssueCouponsInput!) { issueCoupons(input: $input) {
                 issued userErrors { code field } } }""",
            input={
                "templateId": template["id"],
                "memberIds": ["not-an-id"],
                "reason": "x",
                "idempotencyKey": "e-2",
            },
        )
    )["issueCoupons"]
    both = (
        await admin.data(
            """mutation($input: IssueCouponsInput!) { issueCoupons(input: $input) {
                 issued userErrors { code field } } }""",
            input={
                "templateId": template["id"],
                "memberIds": [global_id("Member", me)],
                "segmentId": global_id("Segment", 1),
                "reason": "x",
                "idempotencyKey": "e-3",
            },
        )
    )["issueCoupons"]
    long_key = await issue(admin, template["id"], "k" * 201, members=[me])
    blank_reason = await issue(admin, template["id"], "e-4", members=[me], reason="  ")
    negative = await admin.execute(
        QUOTE,
        member=global_id("Member", me),
        codes=["X"],
        store="S001",
        channel="POS",
        amount="-1",
    )
    too_many = await admin.execute(
        QUOTE,
        member=global_id("Member", me),
        codes=[f"C{n}" for n in range(21)],
        store="S001",
        channel="POS",
        amount="1",
    )

    assert legit["issued"] == 1
    assert [e["code"] for e in bad_member["userErrors"]] == ["INVALID_INPUT"]
    assert [e["code"] for e in both["userErrors"]] == ["INVALID_INPUT"]
    assert [e["field"] for e in long_key["userErrors"]] == [["input", "idempotencyKey"]]
    assert [e["field"] for e in blank_reason["userErrors"]] == [["input", "reason"]]
    assert negative["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert too_many["errors"][0]["extensions"]["code"] == "INVALID_INPUT"
    assert await count_rows("SELECT count(*) FROM coupons") == 1

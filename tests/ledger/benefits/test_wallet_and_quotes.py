"""The wallet (``Member.coupons``) and quotes at the till, through the API."""

from __future__ import annotations

from datetime import timedelta

from tests.ledger.benefits.benefits_graphql import QUOTE, VOID, define, global_id, issue, wallet
from tests.statements import counted_statements

MEMBERS_WALLETS = """
query Wallets($first: Int!) {
  members(first: $first) {
    edges { node {
      coupons(status: ACTIVE) { totalCount edges { node { code template { code } } } }
    } }
  }
}
"""


async def _codes(admin, member: int) -> list[str]:  # type: ignore[no-untyped-def]
    return [e["node"]["code"] for e in (await wallet(admin, member))["coupons"]["edges"]]


async def test_the_wallet_pages_newest_first_and_filters_by_status(admin, members, clock):
    short = await define(admin, "SHORT", validDays=1)
    long = await define(admin, "LONG", validDays=30)
    (member,) = await members(1)
    await issue(admin, short["id"], "s-1", members=[member])
    for n in range(3):
        await issue(admin, long["id"], f"l-{n}", members=[member])
    clock.advance(timedelta(days=2))

    page = (await wallet(admin, member, first=2))["coupons"]
    rest = (await wallet(admin, member, first=2, after=page["pageInfo"]["endCursor"]))["coupons"]
    active = (await wallet(admin, member, status="ACTIVE"))["coupons"]
    expired = (await wallet(admin, member, status="EXPIRED"))["coupons"]

    assert page["totalCount"] == 4 and page["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["template"]["code"] for e in page["edges"] + rest["edges"]] == [
        "LONG",
        "LONG",
        "LONG",
        "SHORT",
    ]
    assert rest["pageInfo"]["hasNextPage"] is False
    # Past its last moment a coupon reads EXPIRED before the expiry job records it.
    assert active["totalCount"] == 3
    assert [e["node"]["template"]["code"] for e in expired["edges"]] == ["SHORT"]
    assert expired["edges"][0]["node"]["status"] == "EXPIRED"


async def test_wallets_of_5_and_of_30_members_cost_the_same_statements(admin, members, engine, app):
    template = await define(admin, "MANY")
    ids = await members(30)
    await issue(admin, template["id"], "many", members=ids)

    with counted_statements(engine, app.state.hub.reads) as five:
        small = (await admin.data(MEMBERS_WALLETS, first=5))["members"]["edges"]
    with counted_statements(engine, app.state.hub.reads) as thirty:
        large = (await admin.data(MEMBERS_WALLETS, first=30))["members"]["edges"]

    assert len(small) == 5 and len(large) == 30
    assert all(e["node"]["coupons"]["totalCount"] == 1 for e in large)
    assert len(thirty) == len(five)


async def test_quotes_say_what_each_coupon_gives_and_why_not(admin, members, graphql_client, clock):
    cash = await define(admin, "CASH", value="50", minSpend="200", storeIds=["S001"])
    dairy = await define(
        admin, "DAIRY", kind="PERCENT_OFF", value="90", minSpend=None, categories=["dairy"]
    )
    online = await define(
        admin, "ONLINE", kind="FREE_SHIPPING", value=None, minSpend=None, channels=["MINI_PROGRAM"]
    )
    gift = await define(admin, "GIFT", kind="GIFT", value=None, minSpend=None, validDays=1)
    me, other = await members(2)
    for template in (cash, dairy, online, gift):
        await issue(admin, template["id"], f"q-{template['code']}", members=[me])
    await issue(admin, cash["id"], "q-other", members=[other])
    mine = {
        e["node"]["template"]["code"]: e["node"]["code"]
        for e in (await wallet(admin, me))["coupons"]["edges"]
    }
    theirs = (await wallet(admin, other))["coupons"]["edges"][0]["node"]["code"]
    till = await graphql_client("pos", store="S001")

    async def quote(codes, **basket):  # type: ignore[no-untyped-def]
        values = {
            "member": global_id("Member", me),
            "store": "S001",
            "channel": "POS",
            "amount": "300.00",
            **basket,
        }
        answer = (await till.data(QUOTE, codes=codes, **values))["quoteCoupons"]
        return [(q["coupon"]["code"], q["usable"], q["discount"], q["reason"]) for q in answer]

    items = [
        {"sku": "MILK", "category": "dairy", "quantity": 2, "unitPrice": "50.00"},
        {"sku": "TV", "category": "electronics", "quantity": 1, "unitPrice": "200.00"},
    ]
    typed = mine["CASH"].lower()[:8] + "-" + mine["CASH"][8:]
    assert await quote(
        [typed, mine["DAIRY"], mine["ONLINE"], mine["GIFT"], theirs, "NOSUCHCODE"], items=items
    ) == [
        (mine["CASH"], True, "50.00", None),
        (mine["DAIRY"], True, "10.00", None),
        (mine["ONLINE"], False, "0.00", "CHANNEL"),
        (mine["GIFT"], True, "0.00", None),
        (theirs, False, "0.00", "NOT_OWNER"),
    ]
    assert await quote([mine["CASH"], mine["DAIRY"]], amount="199.00") == [
        (mine["CASH"], False, "0.00", "MIN_SPEND"),
        (mine["DAIRY"], False, "0.00", "CATEGORY"),
    ]
    other_store = await graphql_client("pos", store="S002")
    body = await other_store.execute(
        QUOTE,
        member=global_id("Member", me),
        codes=[mine["CASH"]],
        store="S002",
        channel="POS",
        amount="300.00",
    )
    assert body["data"]["quoteCoupons"][0]["reason"] == "STORE"

    voided = await admin.data(VOID, id=await _coupon_id(admin, me, "CASH"), reason="mistake")
    assert voided["voidCoupon"]["coupon"]["status"] == "VOID"
    clock.advance(timedelta(days=2))
    assert await quote([mine["CASH"], mine["GIFT"]]) == [
        (mine["CASH"], False, "0.00", "VOID"),
        (mine["GIFT"], False, "0.00", "EXPIRED"),
    ]
    forbidden = await till.execute(
        QUOTE,
        member=global_id("Member", me),
        codes=[mine["GIFT"]],
        store="S002",
        channel="POS",
        amount="1.00",
    )
    assert forbidden["errors"][0]["extensions"]["code"] == "FORBIDDEN"


async def _coupon_id(admin, member: int, template_code: str) -> str:  # type: ignore[no-untyped-def]
    for edge in (await wallet(admin, member))["coupons"]["edges"]:
        if edge["node"]["template"]["code"] == template_code:
            return edge["node"]["id"]
    raise AssertionError(template_code)


async def test_a_coupon_is_voided_once(admin, members):
    template = await define(admin, "V")
    (member,) = await members(1)
    await issue(admin, template["id"], "v", members=[member])
    coupon_id = await _coupon_id(admin, member, "V")

    first = (await admin.data(VOID, id=coupon_id, reason="abuse"))["voidCoupon"]
    second = (await admin.data(VOID, id=coupon_id, reason="abuse"))["voidCoupon"]

    assert first["coupon"]["status"] == "VOID"
    assert [(e["code"], e["field"]) for e in second["userErrors"]] == [("INVALID_INPUT", ["id"])]

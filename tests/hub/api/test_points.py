"""Points through the API: redeem, adjust, history, expiring points, permissions, bonuses."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.conftest import START
from tests.graphql_client import GraphQLClient
from tests.hub.api.members_graphql import card, created_member, phone, unionid
from tests.hub.api.points_graphql import (
    ISSUE_TOKEN,
    adjust,
    codes,
    points_of,
    redeem,
)
from tests.statements import counted_statements

ERASE = """
mutation Erase($id: ID!) { eraseMember(memberId: $id, reason: "request") { userErrors { code } } }
"""

MEMBERS_POINTS = """
{ members(first: 50) { edges { node { id points {
    available pending lifetimeEarned
    expiringSoon { points }
    history(first: 3) { edges { node { amount } } }
} } } } }
"""

ENTRY_NODE = "query($id: ID!) { node(id: $id) { id ... on LedgerEntry { kind amount } } }"


async def test_redeem_spends_available_points_and_answers_the_entry(admin, graphql_client):
    member = await created_member(admin, "POS", card("C-1"))
    await adjust(admin, member["id"], 300, "grant-1")
    till = await graphql_client("pos", store="S001")

    payload = await redeem(till, member["id"], 120, "till-1")

    assert payload["userErrors"] == []
    assert payload["replayed"] is False
    assert payload["decision"] == {"outcome": "ACCEPTED", "reasons": []}
    assert payload["entry"]["kind"] == "REDEEM"
    assert payload["entry"]["amount"] == -120
    assert payload["entry"]["balanceAfter"] == 180
    assert payload["entry"]["storeId"] == "S001"
    assert datetime.fromisoformat(payload["entry"]["createdAt"]) == START
    assert payload["entry"]["availableAt"] is None
    assert payload["entry"]["reverses"] is None
    assert payload["member"]["points"]["available"] == 180


async def test_insufficient_points_is_refused_recorded_and_replayed(admin, graphql_client):
    member = await created_member(admin, "POS", card("C-2"))
    await adjust(admin, member["id"], 50, "grant-2")
    till = await graphql_client("pos", store="S001")

    refused = await redeem(till, member["id"], 80, "big-one")
    await adjust(admin, member["id"], 100, "grant-3")
    retried = await redeem(till, member["id"], 80, "big-one")

    assert codes(refused) == ["INSUFFICIENT_POINTS"] and refused["entry"] is None
    assert refused["userErrors"][0]["field"] == ["input", "points"]
    # Enough points now, but the key already answered: the refusal replays, nothing is spent.
    assert codes(retried) == ["INSUFFICIENT_POINTS"] and retried["replayed"] is True
    assert (await points_of(admin, member["id"]))["available"] == 150


async def test_a_key_is_scoped_to_its_caller(admin, graphql_client):
    member = await created_member(admin, "POS", card("C-3"))
    await adjust(admin, member["id"], 100, "grant-4")
    till = await graphql_client("pos", store="S001")
    frontend = await graphql_client("partner", scopes=("members:impersonate",))
    token = (await frontend.data(ISSUE_TOKEN, id=member["id"]))["issueMemberToken"]["token"]
    as_member = GraphQLClient(till.http, token)

    by_till = await redeem(till, member["id"], 10, "same-key")
    by_member = await redeem(as_member, member["id"], 10, "same-key", channel="MINI_PROGRAM")

    assert by_till["replayed"] is False and by_member["replayed"] is False
    assert by_member["entry"]["channel"] == "MINI_PROGRAM"
    assert (await points_of(admin, member["id"]))["available"] == 80


async def test_a_member_token_redeems_only_its_own_points(admin, graphql_client):
    mine = await created_member(admin, "POS", card("C-4"))
    other = await created_member(admin, "POS", card("C-5"))
    await adjust(admin, other["id"], 100, "grant-5")
    frontend = await graphql_client("partner", scopes=("members:impersonate",))
    token = (await frontend.data(ISSUE_TOKEN, id=mine["id"]))["issueMemberToken"]["token"]

    payload = await redeem(GraphQLClient(admin.http, token), other["id"], 10, "k")

    assert codes(payload) == ["FORBIDDEN"]
    assert (await points_of(admin, other["id"]))["available"] == 100


async def test_pos_redeems_only_at_its_own_store(admin, graphql_client):
    member = await created_member(admin, "POS", card("C-6"))
    await adjust(admin, member["id"], 100, "grant-6")
    till = await graphql_client("pos", store="S001")

    elsewhere = await redeem(till, member["id"], 10, "k1", storeId="S999")
    at_home = await redeem(till, member["id"], 10, "k2", storeId="S001")

    assert codes(elsewhere) == ["FORBIDDEN"]
    assert elsewhere["userErrors"][0]["field"] == ["input", "storeId"]
    assert at_home["userErrors"] == [] and at_home["entry"]["storeId"] == "S001"


async def test_adjust_is_admin_only_needs_a_reason_and_never_overdraws(admin, graphql_client):
    member = await created_member(admin, "POS", card("C-7"))
    till = await graphql_client("pos", store="S001")

    by_till = await adjust(till, member["id"], 10, "a1")
    no_reason = (
        await admin.data(
            "mutation($i: AdjustInput!) { adjustPoints(input: $i) { userErrors { code field } } }",
            i={"memberId": member["id"], "points": 10, "idempotencyKey": "a2", "reason": " "},
        )
    )["adjustPoints"]
    credit = await adjust(admin, member["id"], 40, "a3")
    too_much = await adjust(admin, member["id"], -50, "a4")
    debit = await adjust(admin, member["id"], -15, "a5")

    assert codes(by_till) == ["FORBIDDEN"]
    assert no_reason["userErrors"] == [{"code": "INVALID_INPUT", "field": ["input", "reason"]}]
    assert credit["entry"]["kind"] == "ADJUST" and credit["entry"]["amount"] == 40
    assert codes(too_much) == ["INSUFFICIENT_POINTS"]
    assert debit["entry"]["balanceAfter"] == 25
    assert debit["member"]["points"]["lifetimeEarned"] == 40


async def test_unknown_member_and_bad_id_write_nothing(admin):
    unknown = await adjust(admin, "TWVtYmVyOjk5OTk5", 10, "x1")  # Member:99999
    malformed = await adjust(admin, "not-an-id", 10, "x2")

    assert codes(unknown) == ["NOT_FOUND"]
    assert malformed["userErrors"][0]["code"] == "INVALID_INPUT"
    assert malformed["userErrors"][0]["field"] == ["input", "memberId"]


async def test_verified_phone_pays_the_signup_bonus_once_per_phone_ever(admin):
    first = await created_member(admin, "MINI_PROGRAM", phone("13800138000"))
    unverified = await created_member(admin, "MINI_PROGRAM", phone("13900139000", verified=False))
    await admin.data(ERASE, id=first["id"])
    again = await created_member(admin, "MINI_PROGRAM", phone("13800138000"))

    assert (await points_of(admin, first["id"]))["available"] == 100
    assert (await points_of(admin, unverified["id"]))["available"] == 0
    # Same phone after erasure: a new member, but the phone had its bonus.
    assert again["id"] != first["id"]
    assert (await points_of(admin, again["id"]))["available"] == 0


async def test_referral_pays_both_sides_once(admin):
    referrer = await created_member(admin, "WEB", card("R-1"))
    # A verified identity: an unverified sign-up pays no referral (tests/security).
    referee = await created_member(admin, "WEB", unionid("u-r-2"), referrerId=referrer["id"])

    referrer_points = await points_of(admin, referrer["id"])
    referee_points = await points_of(admin, referee["id"], kinds=["BONUS"])

    assert referrer_points["available"] == 100
    assert referee_points["available"] == 100
    assert [e["node"]["kind"] for e in referee_points["history"]["edges"]] == ["BONUS"]


async def test_history_is_newest_first_filterable_and_paged(admin, graphql_client):
    member = await created_member(admin, "POS", card("H-1"))
    till = await graphql_client("pos", store="S001")
    for n in range(1, 6):
        await adjust(admin, member["id"], n * 10, f"h{n}")
    await redeem(till, member["id"], 5, "h-redeem")

    page1 = (await points_of(admin, member["id"], first=2))["history"]
    page2 = (await points_of(admin, member["id"], first=2, after=page1["pageInfo"]["endCursor"]))[
        "history"
    ]
    redeems = (await points_of(admin, member["id"], kinds=["REDEEM"]))["history"]

    assert [e["node"]["amount"] for e in page1["edges"]] == [-5, 50]
    assert page1["pageInfo"]["hasNextPage"] is True
    assert [e["node"]["amount"] for e in page2["edges"]] == [40, 30]
    assert [e["node"]["balanceAfter"] for e in page2["edges"]] == [100, 60]
    assert [e["node"]["kind"] for e in redeems["edges"]] == ["REDEEM"]
    assert redeems["pageInfo"] == {"hasNextPage": False, "endCursor": redeems["edges"][0]["cursor"]}


async def test_expiring_soon_answers_from_lots(admin, graphql_client, clock):
    member = await created_member(admin, "POS", card("E-1"))
    await adjust(admin, member["id"], 100, "e1")
    clock.advance(timedelta(days=40))
    await adjust(admin, member["id"], 70, "e2")
    till = await graphql_client("pos", store="S001")
    await redeem(till, member["id"], 30, "e3")
    clock.advance(timedelta(days=365 - 40 - 20))  # 20 days before the first lot expires

    soon = (await points_of(admin, member["id"], within=30))["expiringSoon"]
    later = (await points_of(admin, member["id"], within=60))["expiringSoon"]

    assert [e["points"] for e in soon] == [70]
    assert [e["points"] for e in later] == [70, 70]


async def test_points_of_a_member_list_cost_the_same_queries_for_2_or_12(admin, engine, app):
    async def statements_for_list() -> int:
        with counted_statements(engine, app.state.hub.reads) as statements:
            data = await admin.data(MEMBERS_POINTS)
        assert all(e["node"]["points"]["available"] == 5 for e in data["members"]["edges"])
        return len(statements)

    for n in range(2):
        member = await created_member(admin, "POS", card(f"L-{n}"))
        await adjust(admin, member["id"], 5, f"l{n}")
    with_two = await statements_for_list()
    for n in range(2, 12):
        member = await created_member(admin, "POS", card(f"L-{n}"))
        await adjust(admin, member["id"], 5, f"l{n}")
    with_twelve = await statements_for_list()

    assert with_twelve == with_two


async def test_a_ledger_entry_is_a_node(admin, graphql_client):
    member = await created_member(admin, "POS", card("N-1"))
    entry = (await adjust(admin, member["id"], 25, "n1"))["entry"]
    partner = await graphql_client("partner")
    frontend = await graphql_client("frontend")

    found = (await admin.data(ENTRY_NODE, id=entry["id"]))["node"]
    by_partner = (await partner.data(ENTRY_NODE, id=entry["id"]))["node"]
    by_frontend = await frontend.execute(ENTRY_NODE, id=entry["id"])

    assert found == {"id": entry["id"], "kind": "ADJUST", "amount": 25}
    assert by_partner == found
    assert by_frontend["errors"][0]["extensions"]["code"] == "FORBIDDEN"

"""Each anti-fraud rule on its own story, and on a clean one; held points and their review."""

from __future__ import annotations

from datetime import timedelta

from hub.ids import decode_int_id
from sync.stores import save_staff, save_store
from tests.conftest import START
from tests.hub.api.members_graphql import card, created_member
from tests.hub.api.points_graphql import adjust, redeem
from tests.hub.api.purchases_graphql import (
    DECIDE,
    RECORD_BATCH,
    REVIEWS,
    account,
    assert_ledger_verifies,
    purchase_input,
    record,
    settle,
)


def decision(payload):  # type: ignore[no-untyped-def]
    assert payload["userErrors"] == [], payload["userErrors"]
    return payload["decision"]["outcome"], payload["decision"]["reasons"]


async def test_velocity_holds_the_eleventh_earning_purchase_of_a_day(admin, graphql_client):
    till = await graphql_client("pos", store="S001")
    busy = await created_member(admin, "POS", card("C-1"))
    calm = await created_member(admin, "POS", card("C-2"))

    answers = [await record(till, f"V-{n}", "10.00", memberId=busy["id"]) for n in range(11)]
    clean = [await record(till, f"W-{n}", "10.00", memberId=calm["id"]) for n in range(10)]

    assert [decision(a) for a in answers[:10]] == [("ACCEPTED", [])] * 10
    assert decision(answers[10]) == ("HELD", ["VELOCITY_MEMBER_DAY"])
    assert answers[10]["purchase"]["status"] == "HELD"
    assert all(decision(a) == ("ACCEPTED", []) for a in clean)


async def test_velocity_counts_points_too(admin, graphql_client):
    till = await graphql_client("pos", store="S001")
    buyer = await created_member(admin, "POS", card("C-3"))

    first = await record(till, "P-1", "19000.00", memberId=buyer["id"])
    second = await record(till, "P-2", "19000.00", memberId=buyer["id"])
    third = await record(till, "P-3", "19000.00", memberId=buyer["id"])

    assert decision(first) == ("ACCEPTED", []) and decision(second) == ("ACCEPTED", [])
    assert decision(third) == ("HELD", ["VELOCITY_MEMBER_DAY"])  # 5,700 points in a day


async def test_velocity_counts_a_business_day_by_the_programme_zone(admin, graphql_client):
    till = await graphql_client("pos", store="S001")
    alone = await created_member(admin, "POS", card("C-7"))
    batched = await created_member(admin, "POS", card("C-8"))
    # 2026-11-20 in Shanghai: its first minute is still 2026-11-19 in UTC.
    midnight = START.replace(hour=0) - timedelta(days=1)
    day = [midnight + timedelta(seconds=30)]
    day += [midnight + timedelta(hours=h) for h in range(3, 11)]
    day += [
        midnight + timedelta(hours=23, minutes=59),
        midnight + timedelta(hours=23, minutes=59, seconds=30),
    ]
    next_day = midnight + timedelta(days=1, seconds=10)

    singles = [
        await record(till, f"D-{n}", "10.00", memberId=alone["id"], at=at)
        for n, at in enumerate([*day, next_day])
    ]
    # The day's first purchase stored alone; the batch must count it from the table.
    await record(till, "E-0", "10.00", memberId=batched["id"], at=day[0])
    batch = await till.data(
        RECORD_BATCH,
        inputs=[
            purchase_input(f"E-{n}", "10.00", memberId=batched["id"], at=at)
            for n, at in enumerate([*day[1:], next_day], start=1)
        ],
    )

    assert [decision(a)[0] for a in singles] == ["ACCEPTED"] * 10 + ["HELD", "ACCEPTED"]
    statuses = [a["purchase"]["status"] for a in batch["recordPurchases"]]
    assert statuses == ["COMPLETED"] * 9 + ["HELD", "COMPLETED"]


async def test_a_large_amount_is_held(admin, graphql_client):
    till = await graphql_client("pos", store="S001")
    buyer = await created_member(admin, "POS", card("C-4"))
    other = await created_member(admin, "POS", card("C-40"))

    at_limit = await record(till, "L-1", "20000.00", memberId=buyer["id"])
    above = await record(admin, "L-2", "20000.01", memberId=other["id"])

    assert decision(at_limit) == ("ACCEPTED", [])
    assert decision(above) == ("HELD", ["LARGE_AMOUNT"])
    assert above["decision"]["review"]["summary"] == "purchase S001/L-2, 2,000 points"


async def test_a_cashier_earning_on_their_own_sale_is_held(
    admin, graphql_client, run_in_transaction
):
    till = await graphql_client("pos", store="S001")
    cashier = await created_member(admin, "POS", card("C-5"))
    customer = await created_member(admin, "POS", card("C-6"))
    await run_in_transaction(
        lambda s: save_staff(
            s,
            operator_id="OP-7",
            member_id=decode_int_id(cashier["id"], "Member"),
            store_id="S001",
            now=START,
        )
    )

    own = await record(till, "S-1", "100.00", memberId=cashier["id"], operatorId="OP-7")
    served = await record(till, "S-2", "100.00", memberId=customer["id"], operatorId="OP-7")

    assert decision(own) == ("HELD", ["STAFF_SELF_DEALING"])
    assert decision(served) == ("ACCEPTED", [])


async def test_two_cities_half_an_hour_apart_is_impossible_travel(
    admin, graphql_client, clock, run_in_transaction
):
    clock.advance(timedelta(hours=1))
    for store, city in (("SH-1", "Shanghai"), ("BJ-1", "Beijing")):
        await run_in_transaction(
            lambda s, store=store, city=city: save_store(
                s, store_id=store, name=None, city=city, time_zone=None, now=START
            )
        )
    traveller = await created_member(admin, "POS", card("C-7"))
    commuter = await created_member(admin, "POS", card("C-8"))

    await record(admin, "T-1", "50.00", store="SH-1", memberId=traveller["id"])
    jumped = await record(
        admin,
        "T-2",
        "50.00",
        store="BJ-1",
        memberId=traveller["id"],
        at=START + timedelta(minutes=20),
    )
    await record(admin, "T-3", "50.00", store="SH-1", memberId=commuter["id"])
    flew = await record(
        admin,
        "T-4",
        "50.00",
        store="BJ-1",
        memberId=commuter["id"],
        at=START + timedelta(minutes=40),
    )
    unknown_city = await record(
        admin,
        "T-5",
        "50.00",
        store="NEW-1",
        memberId=commuter["id"],
        at=START + timedelta(minutes=41),
    )

    assert decision(jumped) == ("HELD", ["IMPOSSIBLE_TRAVEL"])
    assert decision(flew) == ("ACCEPTED", [])
    assert decision(unknown_city) == ("ACCEPTED", [])


async def test_a_big_redemption_right_after_a_new_identity_is_held(admin, clock):
    member = await created_member(admin, "POS", card("C-9"))
    await adjust(admin, member["id"], 2_000, "grant")

    small = await redeem(admin, member["id"], 400, "r-1")
    big = await redeem(admin, member["id"], 600, "r-2")
    clock.advance(timedelta(hours=25))
    later = await redeem(admin, member["id"], 600, "r-3")

    assert small["decision"]["outcome"] == "ACCEPTED"
    assert big["decision"] == {"outcome": "HELD", "reasons": ["NEW_IDENTITY_REDEEM"]}
    assert later["decision"]["outcome"] == "ACCEPTED"


async def test_two_rules_at_once_list_both_codes(admin, graphql_client, run_in_transaction):
    till = await graphql_client("pos", store="S001")
    cashier = await created_member(admin, "POS", card("C-10"))
    await run_in_transaction(
        lambda s: save_staff(
            s,
            operator_id="OP-9",
            member_id=decode_int_id(cashier["id"], "Member"),
            store_id=None,
            now=START,
        )
    )

    both = await record(till, "B-1", "25000.00", memberId=cashier["id"], operatorId="OP-9")

    assert decision(both) == ("HELD", ["LARGE_AMOUNT", "STAFF_SELF_DEALING"])


async def test_approving_credits_the_held_points_and_rejecting_credits_nothing(
    admin, graphql_client, clock, run_in_transaction
):
    till = await graphql_client("pos", store="S001")
    first = await created_member(admin, "POS", card("C-11"))
    second = await created_member(admin, "POS", card("C-12"))
    held_one = await record(till, "H-1", "30000.00", memberId=first["id"])
    await record(till, "H-2", "30000.00", memberId=second["id"])
    assert (await account(admin, first["id"]))["points"]["pending"] == 0
    assert held_one["decision"]["review"] is None  # a till does not see review cases
    queue = (await admin.data(REVIEWS, status="OPEN"))["fraudReviews"]["edges"]
    assert [e["node"]["reasons"] for e in queue] == [["LARGE_AMOUNT"], ["LARGE_AMOUNT"]]
    one, two = (e["node"]["id"] for e in queue)

    approve = (await admin.data(DECIDE, id=one, decision="APPROVE", note="known"))[
        "reviewFraudCase"
    ]
    reject = (await admin.data(DECIDE, id=two, decision="REJECT"))["reviewFraudCase"]
    again = (await admin.data(DECIDE, id=one, decision="REJECT"))["reviewFraudCase"]

    assert approve["review"]["status"] == "APPROVED" and approve["review"]["decidedBy"] == "ops"
    assert approve["review"]["note"] == "known"
    assert reject["review"]["status"] == "REJECTED"
    assert again["review"] is None and again["userErrors"][0]["code"] == "INVALID_INPUT"
    assert (await account(admin, first["id"]))["points"]["pending"] == 3_000
    assert (await account(admin, second["id"]))["points"]["pending"] == 0
    statuses = [
        (await account(admin, m["id"]))["purchases"]["edges"][0]["node"]["status"]
        for m in (first, second)
    ]
    assert statuses == ["COMPLETED", "REJECTED"]
    decided = (await admin.data(REVIEWS, status="APPROVED"))["fraudReviews"]["edges"]
    assert [e["node"]["member"]["id"] for e in decided] == [first["id"]]
    clock.advance(timedelta(days=2))
    await settle(run_in_transaction, clock.now())
    assert (await account(admin, first["id"]))["points"]["available"] == 3_000
    await assert_ledger_verifies(run_in_transaction)


async def test_only_operators_see_and_decide_reviews(graphql_client):
    till = await graphql_client("pos", store="S001")

    listed = await till.execute(REVIEWS, status="OPEN")
    decided = (await till.data(DECIDE, id="RnJhdWRSZXZpZXc6MQ==", decision="APPROVE"))[
        "reviewFraudCase"
    ]

    assert listed["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert decided["userErrors"][0]["code"] == "FORBIDDEN"

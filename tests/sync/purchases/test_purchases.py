"""Purchases through the API: a retail day, receipts across channels, batches, concurrency."""

from __future__ import annotations

import asyncio
import hashlib
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from identity.model import Channel
from sync.purchases.requests import Item, PurchaseRequest, content_hash
from tests.conftest import START
from tests.hub.api.members_graphql import card, created_member, openid, phone
from tests.hub.api.points_graphql import redeem
from tests.hub.api.purchases_graphql import (
    PURCHASE,
    RECORD_BATCH,
    TIERS,
    account,
    assert_ledger_verifies,
    count,
    purchase_input,
    record,
    refund,
    settle,
)


async def test_a_retail_day_keeps_points_and_stats_exact(
    admin, graphql_client, clock, run_in_transaction
):
    till = await graphql_client("pos", store="S001")

    # Enrolled at the till with a card and a verified phone: sign-up bonus, pending points.
    first = await record(till, "R-1", "259.00", identities=[card("C-100"), phone("13800138000")])
    member_id = first["member"]["id"]
    assert first["userErrors"] == [] and first["pointsEarned"] == 25
    assert first["decision"] == {"outcome": "ACCEPTED", "reasons": [], "review": None}
    assert first["member"]["points"] == {"available": 100, "pending": 25}

    clock.advance(timedelta(hours=1))
    second = await record(till, "R-2", "1000.00", memberId=member_id, at=clock.now())
    assert second["pointsEarned"] == 100
    assert (await account(admin, member_id))["tier"]["code"] == "SILVER"

    clock.advance(timedelta(hours=1))
    third = await record(till, "R-3", "200.00", memberId=member_id, at=clock.now())
    assert third["pointsEarned"] == 24  # 20 at the SILVER multiplier 1.2
    state = await account(admin, member_id)
    assert state["points"] == {"available": 100, "pending": 149, "lifetimeEarned": 249}
    assert state["stats"]["orderCount"] == 3
    assert state["stats"]["totalSpend"] == "1459.00"
    assert state["stats"]["averageOrderValue"] == "486.33"
    assert state["stats"]["spendLast12Months"] == "1459.00"

    returned = await refund(till, "R-2", "RF-1", "500.00", at=clock.now())
    assert returned["userErrors"] == [] and returned["pointsClawedBack"] == 50
    assert returned["purchase"]["status"] == "PARTIALLY_REFUNDED"
    assert returned["purchase"]["refundedAmount"] == "500.00"
    state = await account(admin, member_id)
    assert state["points"]["pending"] == 99
    assert state["stats"]["totalSpend"] == "959.00"
    assert state["stats"]["averageOrderValue"] == "319.67"
    assert state["tier"]["spendToNext"] == "4041.00"

    # T+1: the next business day in Shanghai, the settlement moves pending to available.
    clock.set(START.replace(hour=0) + timedelta(days=1, minutes=5))
    assert await settle(run_in_transaction, clock.now()) == 3
    assert (await account(admin, member_id))["points"]["available"] == 199

    spent = await redeem(till, member_id, 150, "redeem-1", storeId="S001")
    assert spent["userErrors"] == [] and spent["member"]["points"]["available"] == 49
    page = (await account(admin, member_id))["purchases"]
    assert [e["node"]["receiptNo"] for e in page["edges"]] == ["R-3", "R-2", "R-1"]
    await assert_ledger_verifies(run_in_transaction)


async def test_one_receipt_claimed_at_the_till_and_again_in_the_mini_program(
    admin, graphql_client, run_in_transaction
):
    till = await graphql_client("pos", store="S001")
    buyer = await created_member(admin, "POS", card("C-1"))
    other = await created_member(admin, "MINI_PROGRAM", openid("o-2"))
    await record(till, "R-9", "300.00", memberId=buyer["id"])

    claimed = await record(admin, "R-9", "300.00", memberId=other["id"], channel="MINI_PROGRAM")
    assert claimed["purchase"] is None
    assert [e["code"] for e in claimed["userErrors"]] == ["DUPLICATE_RECEIPT"]
    again = await record(admin, "R-9", "300.00", memberId=buyer["id"], channel="MINI_PROGRAM")
    assert again["replayed"] is True and again["pointsEarned"] == 30
    assert await count(run_in_transaction, "purchases") == 1
    stored = (await admin.data(PURCHASE, store="S001", receipt="R-9"))["purchase"]
    assert stored["member"]["id"] == buyer["id"] and stored["channel"] == "POS"
    assert (await account(admin, other["id"]))["points"]["pending"] == 0


async def test_100_concurrent_submissions_of_one_receipt_store_it_once(
    admin, graphql_client, run_in_transaction
):
    till = await graphql_client("pos", store="S001")
    buyer = await created_member(admin, "POS", card("C-7"))

    answers = await asyncio.gather(
        *(record(till, "R-100", "880.00", memberId=buyer["id"]) for _ in range(100))
    )

    assert all(a["userErrors"] == [] for a in answers)
    assert sum(not a["replayed"] for a in answers) == 1
    assert {a["purchase"]["id"] for a in answers} == {answers[0]["purchase"]["id"]}
    assert await count(run_in_transaction, "purchases") == 1
    assert (await account(admin, buyer["id"]))["points"]["pending"] == 88
    await assert_ledger_verifies(run_in_transaction)


async def test_a_batch_of_500_with_3_bad_purchases_stores_497(
    admin, graphql_client, run_in_transaction
):
    till = await graphql_client("pos", store="S001")
    buyer = await created_member(admin, "POS", card("C-8"))
    inputs = [
        purchase_input(f"B-{n}", "12.00", memberId=buyer["id"], at=START - timedelta(days=3))
        for n in range(500)
    ]
    inputs[100]["amount"] = "-1.00"
    inputs[250]["storeId"] = "S999"  # another store's receipt
    inputs[251]["items"] = [{"sku": "A", "quantity": 0, "unitPrice": "1.00"}]

    answers = (await till.data(RECORD_BATCH, inputs=inputs))["recordPurchases"]

    assert len(answers) == 500
    failed = {n: a["userErrors"][0] for n, a in enumerate(answers) if a["userErrors"]}
    assert sorted(failed) == [100, 250, 251]
    assert failed[100]["field"] == ["inputs", "100", "amount"]
    assert failed[250]["code"] == "FORBIDDEN"
    assert failed[251]["field"] == ["inputs", "251", "items", "0", "quantity"]
    assert [a["purchase"]["receiptNo"] for a in answers[:3]] == ["B-0", "B-1", "B-2"]
    assert await count(run_in_transaction, "purchases") == 497
    assert (await account(admin, buyer["id"]))["stats"]["orderCount"] == 497


async def test_more_than_500_in_a_batch_writes_nothing(admin, run_in_transaction):
    inputs = [purchase_input(f"X-{n}", "1.00") for n in range(501)]

    answers = (await admin.data(RECORD_BATCH, inputs=inputs))["recordPurchases"]

    assert [e["code"] for e in answers[0]["userErrors"]] == ["LIMIT_EXCEEDED"]
    assert await count(run_in_transaction, "purchases") == 0


async def test_a_purchase_without_a_member_is_kept_with_no_points(admin, run_in_transaction):
    answer = await record(
        admin,
        "R-anon",
        "99.00",
        items=[{"sku": "TEA-1", "category": "tea", "quantity": 2, "unitPrice": "49.50"}],
    )

    assert answer["purchase"]["member"] is None and answer["pointsEarned"] == 0
    assert answer["purchase"]["items"] == [
        {"sku": "TEA-1", "category": "tea", "quantity": 2, "unitPrice": "49.50"}
    ]
    assert await count(run_in_transaction, "ledger_entries") == 0


async def test_bad_input_names_the_field_and_writes_nothing(admin, run_in_transaction):
    future = START + timedelta(days=1)
    answers = [
        await record(admin, " ", "10.00"),
        await record(admin, "R-1", "10.001"),
        await record(admin, "R-2", "10.00", at=future),
        await record(admin, "R-3", "10.00", memberId="bm90LWEtbWVtYmVy"),
        await record(admin, "R-4", "10.00", identities=[phone("12")]),
    ]

    assert [a["userErrors"][0]["field"] for a in answers] == [
        ["input", "receiptNo"],
        ["input", "amount"],
        ["input", "occurredAt"],
        ["input", "memberId"],
        ["input", "identities", "0", "value"],
    ]
    assert {a["userErrors"][0]["code"] for a in answers} == {"INVALID_INPUT"}
    assert await count(run_in_transaction, "purchases") == 0
    assert await count(run_in_transaction, "members") == 0


async def test_the_programme_tiers_are_listed_lowest_first(admin):
    tiers = (await admin.data(TIERS))["tiers"]

    assert [(t["code"], t["rank"], t["qualifyingSpend"]) for t in tiers] == [
        ("REGULAR", 0, "0"),
        ("SILVER", 1, "1000"),
        ("GOLD", 2, "5000"),
        ("DIAMOND", 3, "20000"),
    ]
    assert tiers[1]["pointsMultiplier"] == "1.2"


def test_a_receipts_content_hash_is_the_text_stored_hashes_were_made_of():
    # Receipts stored earlier keep their hashes: a replay is told from a changed receipt by
    # comparing them, so the text hashed must not change (non-ASCII escaped, no spaces).
    request = PurchaseRequest(
        store_id="S001",
        receipt_no="R-1",
        channel=Channel.POS,
        occurred_at=datetime(2026, 11, 1, tzinfo=UTC),
        amount=Decimal("25.50"),
        items=(Item(sku=" 龙井-1 ", quantity=2, unit_price=Decimal("12.75"), category="茶"),),
    )
    text = '{"amount":"25.50","member":7,"items":[["\\u9f99\\u4e95-1","\\u8336",2,"12.75"]]}'

    assert content_hash(request, 7) == hashlib.sha256(text.encode()).digest()

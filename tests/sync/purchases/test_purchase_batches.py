"""An offline batch and its purchases sent one by one answer as the rules say, a batch in a
fixed number of statements, and concurrent batches keep the ledger exact."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from hub.ids import decode_int_id, encode_id
from ledger import fraud
from ledger.checks import CheckResult, FraudOutcome, checks
from ledger.posting import lock_members
from sync.stores import save_staff, save_store
from tests.conftest import START
from tests.graphql_client import GraphQLClient
from tests.hub.api.members_graphql import card, created_member
from tests.hub.api.purchases_graphql import (
    PURCHASE,
    PURCHASE_FIELDS,
    assert_ledger_verifies,
    count,
    purchase_input,
    record,
    stored_while_sent,
)
from tests.statements import counted_statements

ANSWER = """
    purchase { receiptNo status pointsEarned }
    pointsEarned
    decision { outcome reasons }
    replayed
    userErrors { code field }
"""
RECORD_ONE = (
    f"mutation One($input: PurchaseInput!) {{ recordPurchase(input: $input) {{ {ANSWER} }} }}"
)
RECORD_MANY = (
    "mutation Many($inputs: [PurchaseInput!]!) {"
    f" recordPurchases(inputs: $inputs) {{ {ANSWER} }} }}"
)
MEMBER = "query M($id: ID!) { member(id: $id) { tier { code } points { available pending } } }"


async def _scenario(
    admin: GraphQLClient, run_in_transaction: Any, world: str
) -> tuple[list[dict], list[str]]:
    """A till's day with every rule firing once, bad input, replays and an enrolment."""
    people = {}
    for name in ("busy", "big", "cashier", "customer", "traveller", "plain"):
        people[name] = (await created_member(admin, "POS", card(f"{world}-{name}")))["id"]
    operator = f"OP-{world}"
    await run_in_transaction(
        lambda s: save_staff(
            s,
            operator_id=operator,
            member_id=decode_int_id(people["cashier"], "Member"),
            store_id="S001",
            now=START,
        )
    )
    await record(
        admin, f"{world}-PRE", "20.00", memberId=people["plain"], at=START - timedelta(hours=2)
    )

    def bought(receipt: str, amount: str, who: str | None, minutes_ago: int, **extra: Any) -> dict:
        buyer = {"memberId": people[who]} if who else {}
        at = START - timedelta(minutes=minutes_ago)
        return purchase_input(f"{world}-{receipt}", amount, at=at, **buyer, **extra)

    inputs = [bought(f"V-{n}", "10.00", "busy", 90 - n) for n in range(11)]
    inputs[11:] = [
        {**bought("BAD", "10.00", "busy", 60), "amount": "-1.00"},
        bought("BIG-1", "19000.00", "big", 59),
        bought("BIG-2", "19000.00", "big", 58),
        bought("BIG-3", "19000.00", "big", 57),
        bought("LARGE", "20000.01", "plain", 56),
        bought("OWN", "100.00", "cashier", 55, operatorId=operator),
        bought("SERVED", "100.00", "customer", 54, operatorId=operator),
        bought("T-SH", "50.00", "traveller", 50, store="SH-1"),
        bought("T-BJ", "50.00", "traveller", 30, store="BJ-1"),
        bought("T-SMALL", "0.50", "traveller", 10, store="SH-1"),
        bought("T-BJ-2", "50.00", "traveller", 5, store="BJ-1"),
        bought("ANON", "30.00", None, 4),
        bought("V-0", "10.00", "busy", 90),  # a repeat in the batch itself
        {**bought("V-1", "10.00", "busy", 89), "amount": "11.00"},  # other content
        {**bought("GHOST", "10.00", None, 3), "memberId": encode_id("Member", 10**9)},
        bought("NEW", "40.00", None, 2, identities=[card(f"{world}-new")]),
        bought("V-11", "10.00", "busy", 1),
        bought("PRE", "20.00", "plain", 120),  # stored before the batch
    ]
    return inputs, [people[name] for name in sorted(people)]


def _seen(answer: dict) -> tuple:
    if answer["userErrors"]:
        return ("ERROR", answer["userErrors"][0]["code"])
    purchase = answer["purchase"]
    decision = answer["decision"]
    return (
        purchase["receiptNo"].split("-", 1)[1],
        purchase["status"],
        answer["pointsEarned"],
        decision["outcome"],
        tuple(decision["reasons"]),
        answer["replayed"],
    )


async def _members(admin: GraphQLClient, ids: list[str]) -> list[dict]:
    return [(await admin.data(MEMBER, id=i))["member"] for i in ids]


def _answer(receipt: str, status: str, points: int, *reasons: str, replayed: bool = False) -> tuple:
    return (receipt, status, points, "HELD" if status == "HELD" else "ACCEPTED", reasons, replayed)


#: What the rules say of the scenario's purchases, worked out by hand: 10 points a 100 yuan,
#: the fraud thresholds of the default settings.
EXPECTED = [
    *(_answer(f"V-{n}", "COMPLETED", 1) for n in range(10)),
    _answer("V-10", "HELD", 1, "VELOCITY_MEMBER_DAY"),
    ("ERROR", "INVALID_INPUT"),
    _answer("BIG-1", "COMPLETED", 1900),
    _answer("BIG-2", "COMPLETED", 1900),
    _answer("BIG-3", "HELD", 1900, "VELOCITY_MEMBER_DAY"),
    _answer("LARGE", "HELD", 2000, "LARGE_AMOUNT"),
    _answer("OWN", "HELD", 10, "STAFF_SELF_DEALING"),
    _answer("SERVED", "COMPLETED", 10),
    _answer("T-SH", "COMPLETED", 5),
    _answer("T-BJ", "HELD", 5, "IMPOSSIBLE_TRAVEL"),
    _answer("T-SMALL", "COMPLETED", 0),
    _answer("T-BJ-2", "HELD", 5, "IMPOSSIBLE_TRAVEL"),
    _answer("ANON", "COMPLETED", 0),
    _answer("V-0", "COMPLETED", 1, replayed=True),
    ("ERROR", "DUPLICATE_RECEIPT"),
    ("ERROR", "NOT_FOUND"),
    _answer("NEW", "COMPLETED", 4),
    _answer("V-11", "HELD", 1, "VELOCITY_MEMBER_DAY"),
    _answer("PRE", "COMPLETED", 2, replayed=True),
]


async def test_a_batch_and_its_purchases_one_by_one_answer_as_the_rules_say(
    admin, run_in_transaction, engine, app
):
    for store, city in (("SH-1", "Shanghai"), ("BJ-1", "Beijing")):
        await run_in_transaction(
            lambda s, store=store, city=city: save_store(
                s, store_id=store, name=None, city=city, time_zone=None, now=START
            )
        )
    singles, single_people = await _scenario(admin, run_in_transaction, "A")
    batch, batch_people = await _scenario(admin, run_in_transaction, "B")

    one_by_one = [(await admin.data(RECORD_ONE, input=i))["recordPurchase"] for i in singles]
    with counted_statements(engine, app.state.hub.reads) as statements:
        together = (await admin.data(RECORD_MANY, inputs=batch))["recordPurchases"]

    assert [_seen(a) for a in together] == EXPECTED
    assert [_seen(a) for a in one_by_one] == EXPECTED
    seen = [_seen(a) for a in together]
    assert [s[1] for s in seen[:11]] == ["COMPLETED"] * 10 + ["HELD"]
    assert seen[11] == ("ERROR", "INVALID_INPUT")
    assert together[11]["userErrors"][0]["field"] == ["inputs", "11", "amount"]
    assert [s[1:5] for s in seen[12:15]] == [
        ("COMPLETED", 1900, "ACCEPTED", ()),
        ("COMPLETED", 1900, "ACCEPTED", ()),
        ("HELD", 1900, "HELD", ("VELOCITY_MEMBER_DAY",)),
    ]
    assert seen[15][4] == ("LARGE_AMOUNT",)
    assert [s[4] for s in seen[16:18]] == [("STAFF_SELF_DEALING",), ()]
    assert [s[4] for s in seen[18:22]] == [(), ("IMPOSSIBLE_TRAVEL",), (), ("IMPOSSIBLE_TRAVEL",)]
    assert seen[20][1:3] == ("COMPLETED", 0)
    assert seen[22][1:3] == ("COMPLETED", 0)
    assert seen[23] == ("V-0", "COMPLETED", 1, "ACCEPTED", (), True)
    assert [seen[24], seen[25]] == [("ERROR", "DUPLICATE_RECEIPT"), ("ERROR", "NOT_FOUND")]
    assert seen[26][1] == "COMPLETED" and seen[27][4] == ("VELOCITY_MEMBER_DAY",)
    assert seen[28][0] == "PRE" and seen[28][5] is True
    assert await _members(admin, batch_people) == await _members(admin, single_people)
    big = (await _members(admin, [batch_people[0]]))[0]
    assert big["tier"]["code"] == "DIAMOND" and big["points"]["pending"] == 3800
    # The runs cost a fixed number of statements, not ~25 per purchase.
    assert len(statements) < 150
    await assert_ledger_verifies(run_in_transaction)


async def _batch_of(admin: GraphQLClient, tag: str, buyers: list[str], size: int) -> list[dict]:
    return [
        purchase_input(
            f"{tag}-{n}",
            f"{20 + n}.00",
            memberId=buyers[n % len(buyers)],
            at=START - timedelta(hours=3, minutes=n),
        )
        for n in range(size)
    ]


async def test_a_batch_of_100_costs_the_statements_of_a_batch_of_10(admin, engine, app):
    buyers = [(await created_member(admin, "POS", card(f"S-{n}")))["id"] for n in range(100)]

    with counted_statements(engine, app.state.hub.reads) as ten:
        small = await admin.data(RECORD_MANY, inputs=await _batch_of(admin, "T", buyers, 10))
    with counted_statements(engine, app.state.hub.reads) as hundred:
        large = await admin.data(RECORD_MANY, inputs=await _batch_of(admin, "H", buyers, 100))

    answers = small["recordPurchases"] + large["recordPurchases"]
    assert [a["purchase"]["status"] for a in answers] == ["COMPLETED"] * 110
    assert len(hundred) == len(ten)


async def test_concurrent_batches_on_shared_members_keep_the_ledger_exact(
    admin, graphql_client, run_in_transaction
):
    till = await graphql_client("pos", store="S001")
    buyers = [(await created_member(admin, "POS", card(f"K-{n}")))["id"] for n in range(8)]
    batches = [await _batch_of(admin, f"K{b}", buyers, 40) for b in range(8)]
    # Each batch twice at once: a till resending while the first upload is in flight.
    sent = [till.data(RECORD_MANY, inputs=batch) for batch in batches + batches]

    answers = [a for data in await asyncio.gather(*sent) for a in data["recordPurchases"]]

    assert all(a["userErrors"] == [] for a in answers)
    assert sum(not a["replayed"] for a in answers) == 320
    assert await count(run_in_transaction, "purchases") == 320
    earned = sum(a["pointsEarned"] for a in answers if not a["replayed"])
    pending = sum(m["points"]["pending"] for m in await _members(admin, buyers))
    held = sum(
        a["pointsEarned"]
        for a in answers
        if not a["replayed"] and a["purchase"]["status"] == "HELD"
    )
    assert pending == earned - held
    await assert_ledger_verifies(run_in_transaction)


async def test_a_buyer_held_by_another_transaction_does_not_hold_up_the_others(
    admin, session_factory, run_in_transaction
):
    # Both members are new: no purchase has touched their points accounts yet.
    held, free = [(await created_member(admin, "POS", card(f"Q-{n}")))["id"] for n in range(2)]
    amounts = ["30.00", "40.00", "50.00", "60.00", "70.00", "80.00"]
    batch = [
        purchase_input(
            f"{'H' if n % 2 == 0 else 'F'}Q-{n}",
            amount,
            memberId=held if n % 2 == 0 else free,
            at=START - timedelta(hours=4, minutes=-n),
        )
        for n, amount in enumerate(amounts)
    ]

    async with session_factory() as other, other.begin():
        # Another posting (a refund, a redemption) holds the first buyer's account.
        await lock_members(other, [decode_int_id(held, "Member")])
        sent = asyncio.create_task(admin.data(RECORD_MANY, inputs=batch))
        free_first, held_meanwhile = await stored_while_sent(
            run_in_transaction, sent, free="FQ-", held="HQ-", expected=3
        )

    answers = (await sent)["recordPurchases"]
    assert (free_first, held_meanwhile) == (3, 0)
    assert [(a["purchase"]["receiptNo"], a["pointsEarned"]) for a in answers] == [
        ("HQ-0", 3),
        ("FQ-1", 4),
        ("HQ-2", 5),
        ("FQ-3", 6),
        ("HQ-4", 7),
        ("FQ-5", 8),
    ]
    assert all(a["userErrors"] == [] and not a["replayed"] for a in answers)
    points = [m["points"]["pending"] for m in await _members(admin, [held, free])]
    assert points == [3 + 5 + 7, 4 + 6 + 8]
    await assert_ledger_verifies(run_in_transaction)


async def test_a_batch_answers_its_purchases_as_they_read_back(admin):
    buyer = (await created_member(admin, "POS", card("RB-1")))["id"]
    item = {"sku": " TEA-1 ", "category": "tea", "quantity": 2, "unitPrice": "10.5"}
    inputs = [
        # Dated before the hub's now, so that all three go in one run.
        purchase_input(
            "RB-0", "123.4", memberId=buyer, items=[item], at=START - timedelta(minutes=1)
        ),
        purchase_input("RB-1", "25000", memberId=buyer, at=START - timedelta(minutes=5)),
        purchase_input("RB-2", "8.00", operatorId=" OP-9 ", at=START - timedelta(minutes=9)),
    ]
    batch = (
        "mutation Many($inputs: [PurchaseInput!]!) { recordPurchases(inputs: $inputs) {"
        f" purchase {{ {PURCHASE_FIELDS} }} userErrors {{ code }} }} }}"
    )

    answers = (await admin.data(batch, inputs=inputs))["recordPurchases"]

    read_back = [
        (await admin.data(PURCHASE, store="S001", receipt=f"RB-{n}"))["purchase"] for n in range(3)
    ]
    assert [a["purchase"] for a in answers] == read_back
    assert [(p["amount"], p["refundedAmount"], p["status"]) for p in read_back] == [
        ("123.40", "0.00", "COMPLETED"),
        ("25000.00", "0.00", "HELD"),
        ("8.00", "0.00", "COMPLETED"),
    ]


async def test_a_rule_without_a_batch_form_still_judges_every_purchase(admin, run_in_transaction):
    async def lucky(session: Any, posting: Any) -> CheckResult | None:
        if posting.attributes.get("amount") == "77.77":
            return CheckResult(FraudOutcome.REJECTED, "LUCKY", "a lucky number")
        return None

    buyer = (await created_member(admin, "POS", card("L-1")))["id"]
    inputs = [
        purchase_input(f"L-{n}", amount, memberId=buyer, at=START - timedelta(minutes=n + 1))
        for n, amount in enumerate(["10.00", "77.77", "20.00"])
    ]
    checks.register("LUCKY", lucky, operations=[fraud.PURCHASE])
    try:
        answers = (await admin.data(RECORD_MANY, inputs=inputs))["recordPurchases"]
    finally:
        checks.unregister("LUCKY")

    assert [(a["purchase"]["status"], a["decision"]["reasons"]) for a in answers] == [
        ("COMPLETED", []),
        ("REJECTED", ["LUCKY"]),
        ("COMPLETED", []),
    ]
    assert (await admin.data(MEMBER, id=buyer))["member"]["points"]["pending"] == 3
    await assert_ledger_verifies(run_in_transaction)

"""Tills name their buyers by phone: a batch resolves them together, in a fixed number of
statements; tills and identify calls racing on new phones end with one member per phone."""

from __future__ import annotations

import asyncio
import random
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from hub.db.engine import create_engine
from hub.http.app import create_app
from identity.lookup import lock_identities
from identity.model import IdentityType, RawIdentity, normalise
from tests.conftest import START
from tests.graphql_client import GraphQLClient
from tests.hub.api.members_graphql import IDENTIFY, card, created_member, phone
from tests.hub.api.purchases_graphql import RECORD_BATCH, purchase_input, stored_while_sent
from tests.statements import counted_statements

TILLS = 8
CONNECTIONS = 20
PEOPLE = 60
PER_TILL = 40
IDENTIFY_CALLS = 40


@pytest.fixture
async def burst(
    settings, database_url, redis, clock, new_key
) -> AsyncIterator[Callable[..., Awaitable[GraphQLClient]]]:
    """Clients of an app with its own pool: each call runs on its own connection."""
    engine = create_engine(database_url, pool_size=CONNECTIONS, max_overflow=0)
    app = create_app(settings, engine=engine, redis=redis, clock=clock)
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as http:

            async def client(kind: str, **options: Any) -> GraphQLClient:
                return GraphQLClient(http, await new_key(kind, **options))

            yield client
    finally:
        await app.state.hub.reads.close()
        await engine.dispose()


def number(person: int) -> str:
    return f"1390013{person:04d}"


async def test_tills_and_identify_racing_on_new_phones_end_with_one_member_per_phone(burst, engine):
    rng = random.Random(8)
    tills = [await burst("pos", store=f"S{t:03d}") for t in range(TILLS)]
    admin = await burst("admin", name="ops")
    batches = []
    for t in range(TILLS):
        # Overlapping people across tills, some twice within a till's batch.
        people = [rng.randrange(PEOPLE) for _ in range(PER_TILL)]
        batches.append(
            [
                purchase_input(
                    f"R{t}-{n}",
                    "88.00",
                    store=f"S{t:03d}",
                    at=START - timedelta(hours=1, minutes=n),
                    identities=[phone(number(p))],
                )
                for n, p in enumerate(people)
            ]
        )
    sent = [
        till.data(RECORD_BATCH, inputs=batch) for till, batch in zip(tills, batches, strict=True)
    ]
    identified = [
        admin.data(IDENTIFY, input={"identities": [phone(number(p))], "channel": "WEB"})
        for p in (rng.randrange(PEOPLE) for _ in range(IDENTIFY_CALLS))
    ]

    answers = await asyncio.gather(*sent, *identified)

    recorded = [a for data in answers[:TILLS] for a in data["recordPurchases"]]
    assert all(a["userErrors"] == [] for a in recorded)
    assert len(recorded) == TILLS * PER_TILL
    assert all(data["identify"]["userErrors"] == [] for data in answers[TILLS:])
    async with engine.connect() as conn:
        owners = (
            await conn.execute(
                text(
                    "SELECT i.value, count(DISTINCT i.member_id) AS members,"
                    " bool_and(m.status = 'ACTIVE') AS active"
                    " FROM member_identities i JOIN members m ON m.id = i.member_id"
                    " WHERE i.type = 'PHONE' GROUP BY i.value"
                )
            )
        ).all()
        members = (await conn.execute(text("SELECT count(*) FROM members"))).scalar_one()
        strays = (
            await conn.execute(
                text(
                    "SELECT count(*) FROM purchases p WHERE p.member_id IS NULL OR NOT EXISTS"
                    " (SELECT 1 FROM member_identities i WHERE i.member_id = p.member_id)"
                )
            )
        ).scalar_one()
    assert all(row.members == 1 and row.active for row in owners)
    assert members == len(owners)
    assert strays == 0


def _by_phone(tag: str, people: range) -> list[dict[str, Any]]:
    return [
        purchase_input(
            f"{tag}-{p}",
            f"{20 + p}.00",
            at=START - timedelta(hours=3, minutes=p),
            identities=[phone(number(p))],
        )
        for p in people
    ]


async def test_a_batch_by_phone_of_100_costs_the_statements_of_a_batch_of_10(admin, engine, app):
    for p in range(100):
        await created_member(admin, "POS", phone(number(p)))

    with counted_statements(engine, app.state.hub.reads) as ten:
        small = await admin.data(RECORD_BATCH, inputs=_by_phone("T", range(10)))
    with counted_statements(engine, app.state.hub.reads) as hundred:
        large = await admin.data(RECORD_BATCH, inputs=_by_phone("H", range(100)))

    answers = small["recordPurchases"] + large["recordPurchases"]
    assert [a["purchase"]["status"] for a in answers] == ["COMPLETED"] * 110
    assert len(hundred) == len(ten)


async def test_new_buyers_named_twice_in_a_batch_are_one_member_each(admin, engine):
    batch = _by_phone("A", range(5)) + _by_phone("B", range(5))

    answers = (await admin.data(RECORD_BATCH, inputs=batch))["recordPurchases"]

    assert all(a["userErrors"] == [] and not a["replayed"] for a in answers)
    async with engine.connect() as conn:
        members = (await conn.execute(text("SELECT count(*) FROM members"))).scalar_one()
        per_member = (
            (
                await conn.execute(
                    text("SELECT count(*) FROM purchases GROUP BY member_id ORDER BY member_id")
                )
            )
            .scalars()
            .all()
        )
    assert members == 5
    assert per_member == [2] * 5


RECORD_OWNED = (
    "mutation Batch($inputs: [PurchaseInput!]!) { recordPurchases(inputs: $inputs) {"
    " purchase { receiptNo member { id } } pointsEarned userErrors { code } } }"
)


async def test_a_phone_another_transaction_holds_does_not_hold_up_the_others(
    admin, session_factory, run_in_transaction
):
    held = (await created_member(admin, "POS", phone(number(901)), card("HP-901")))["id"]
    free = (await created_member(admin, "POS", phone(number(902))))["id"]
    # The held member is named by its card once too: that purchase waits with its phone's.
    named = [
        ("HP", phone(number(901))),
        ("FP", phone(number(902))),
        ("HP", card("HP-901")),
        ("FP", phone(number(902))),
        ("HP", phone(number(901))),
        ("FP", phone(number(902))),
    ]
    batch = [
        purchase_input(
            f"{tag}-{n}",
            f"{30 + 10 * n}.00",
            at=START - timedelta(hours=4, minutes=-n),
            identities=[identity],
        )
        for n, (tag, identity) in enumerate(named)
    ]
    key = normalise(RawIdentity(IdentityType.PHONE, number(901)), region="CN")

    async with session_factory() as other, other.begin():
        # An identify or a link of the first buyer's phone is under way.
        await lock_identities(other, [key])
        sent = asyncio.create_task(admin.data(RECORD_OWNED, inputs=batch))
        free_first, held_meanwhile = await stored_while_sent(
            run_in_transaction, sent, free="FP-", held="HP-", expected=3
        )

    answers = (await sent)["recordPurchases"]
    assert (free_first, held_meanwhile) == (3, 0)
    assert [(a["purchase"]["receiptNo"], a["pointsEarned"]) for a in answers] == [
        ("HP-0", 3),
        ("FP-1", 4),
        ("HP-2", 5),
        ("FP-3", 6),
        ("HP-4", 7),
        ("FP-5", 8),
    ]
    assert all(a["userErrors"] == [] for a in answers)
    owners = {a["purchase"]["receiptNo"]: a["purchase"]["member"]["id"] for a in answers}
    assert owners == {
        f"{tag}-{n}": held if tag == "HP" else free for n, (tag, _) in enumerate(named)
    }


async def test_each_purchase_notes_the_identities_its_buyer_was_named_by(admin, engine):
    await created_member(admin, "POS", phone(number(1)), card("NB-1"))
    await created_member(admin, "POS", phone(number(2)))
    at = START - timedelta(hours=1)
    named = {
        # A known member, by both its identities.
        "KNOWN": [phone(number(1)), card("NB-1")],
        # A newcomer, enrolled with the batch.
        "NEW": [phone(number(3)), card("NB-3")],
        # A known phone with a card nobody holds: identify links the card.
        "LINKS": [phone(number(2)), card("NB-2")],
    }
    batch = [purchase_input(r, "30.00", at=at, identities=ids) for r, ids in named.items()]

    answers = (await admin.data(RECORD_BATCH, inputs=batch))["recordPurchases"]

    assert [a["userErrors"] for a in answers] == [[], [], []]
    async with engine.connect() as conn:
        noted = {
            row.receipt_no: row.named
            for row in await conn.execute(
                text(
                    "SELECT p.receipt_no, array_agg(i.type || ':' || i.value ORDER BY i.type)"
                    " AS named FROM purchase_buyer_identities n"
                    " JOIN purchases p ON p.id = n.purchase_id"
                    " JOIN member_identities i ON i.id = ANY(n.identity_ids)"
                    " AND i.member_id = p.member_id GROUP BY p.receipt_no"
                )
            )
        }
    assert noted == {
        "KNOWN": [f"PHONE:+86{number(1)}", "POS_CARD:NB-1"],
        "NEW": [f"PHONE:+86{number(3)}", "POS_CARD:NB-3"],
        "LINKS": [f"PHONE:+86{number(2)}", "POS_CARD:NB-2"],
    }

"""Concurrent redemptions through the HTTP app, each request on its own connection."""

from __future__ import annotations

import asyncio
import time

import pytest
from sqlalchemy import func, select

from hub.settings import RateLimit, Settings
from ledger.tables import ledger_entries
from ledger.verify import verify_ledger
from tests.hub.api.members_graphql import card, created_member
from tests.hub.api.points_graphql import adjust, codes, points_of, redeem

#: The till of these tests may send everything at once (the kind's limit would throttle it).
TILL = "till-under-load"


@pytest.fixture
def settings(settings: Settings) -> Settings:
    return settings.model_copy(
        update={"rate_limit_overrides": {TILL: RateLimit(rate=1000, burst=1000)}}
    )


async def test_500_concurrent_redeems_of_10_against_1000_never_overdraw(
    admin, graphql_client, run_in_transaction
):
    member = await created_member(admin, "POS", card("CC-1"))
    await adjust(admin, member["id"], 1000, "funding")
    till = await graphql_client("pos", store="S001", name=TILL)

    started = time.perf_counter()
    payloads = await asyncio.gather(
        *(redeem(till, member["id"], 10, f"redeem-{n}") for n in range(500))
    )
    elapsed = time.perf_counter() - started

    succeeded = [p for p in payloads if p["userErrors"] == []]
    refused = [p for p in payloads if codes(p) == ["INSUFFICIENT_POINTS"]]
    report = await run_in_transaction(lambda s: verify_ledger(session=s))
    print(f"\n500 concurrent redeems: {len(succeeded)} ok, {len(refused)} refused, {elapsed:.2f} s")
    assert len(succeeded) == 100
    assert len(refused) == 400
    assert sorted(p["entry"]["balanceAfter"] for p in succeeded) == list(range(0, 1000, 10))
    assert (await points_of(admin, member["id"]))["available"] == 0
    assert report.ok, report.summary()


async def test_50_concurrent_retries_of_one_key_write_one_entry(
    admin, graphql_client, run_in_transaction
):
    member = await created_member(admin, "POS", card("CC-2"))
    await adjust(admin, member["id"], 500, "funding")
    till = await graphql_client("pos", store="S001", name=TILL)

    payloads = await asyncio.gather(*(redeem(till, member["id"], 40, "one-key") for _ in range(50)))
    other_amount = await redeem(till, member["id"], 41, "one-key")

    entries = await run_in_transaction(
        lambda s: s.scalar(
            select(func.count())
            .select_from(ledger_entries)
            .where(ledger_entries.c.kind == "REDEEM")
        )
    )
    assert entries == 1
    assert sum(1 for p in payloads if p["replayed"] is False) == 1
    assert sum(1 for p in payloads if p["replayed"] is True) == 49
    assert len({p["entry"]["id"] for p in payloads}) == 1
    assert all(p["userErrors"] == [] for p in payloads)
    assert codes(other_amount) == ["IDEMPOTENCY_CONFLICT"]
    assert other_amount["userErrors"][0]["field"] == ["input", "idempotencyKey"]
    assert (await points_of(admin, member["id"]))["available"] == 460

"""Stores registered by the first purchase naming them, against real PostgreSQL."""

from __future__ import annotations

import asyncio

from sqlalchemy import text

from sync.stores import ensure_stores
from tests.conftest import START


async def test_a_store_another_transaction_registers_meanwhile_is_answered(session_factory):
    async with session_factory() as first, first.begin():
        await first.execute(
            text("INSERT INTO stores (id, city, created_at) VALUES ('S-RACE', 'Hangzhou', :at)"),
            {"at": START},
        )
        async with session_factory() as second, second.begin():
            # Its INSERT waits on the first transaction's row; when that commits the row
            # conflicts, yet is not in the waiting statement's snapshot.
            registering = asyncio.create_task(ensure_stores(second, ["S-NEW", "S-RACE"], now=START))
            await asyncio.sleep(0.2)
            assert not registering.done()
            await first.commit()
            stores = await registering

    assert {s.id: s.city for s in stores.values()} == {"S-NEW": None, "S-RACE": "Hangzhou"}


async def test_known_and_new_stores_are_answered_in_one_statement(session_factory):
    async with session_factory() as session, session.begin():
        await ensure_stores(session, ["S-KNOWN"], now=START)
    async with session_factory() as session, session.begin():
        stores = await ensure_stores(session, ["S-KNOWN", "S-FRESH", "S-KNOWN"], now=START)
        count = await session.scalar(
            text("SELECT count(*) FROM stores WHERE id IN ('S-KNOWN', 'S-FRESH')")
        )

    assert sorted(stores) == ["S-FRESH", "S-KNOWN"]
    assert count == 2

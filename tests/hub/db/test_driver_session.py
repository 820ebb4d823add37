"""Plain ``text()`` statements on the transaction's asyncpg connection: the same
transaction, the same errors and the same answers as through SQLAlchemy."""

from __future__ import annotations

import asyncio

import pytest
from sqlalchemy import event, exc, literal, select, text
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from bus.hooks import EventHooks
from hub.db.driver_session import DriverSession
from hub.db.engine import create_engine, create_session_factory
from hub.execution.context import sqlstate
from tests.statements import counted_statements

ADD = text("INSERT INTO stores (id, city) VALUES (:id, :city)")
CITIES = text("SELECT id, city FROM stores WHERE id = ANY(CAST(:ids AS text[])) ORDER BY id")
COUNT = text("SELECT count(*) FROM stores")


async def stores(session_factory) -> int:  # type: ignore[no-untyped-def]
    async with session_factory() as session:
        return int(await session.scalar(COUNT))


async def test_the_first_statement_of_a_transaction_is_inside_it(session_factory):
    session = session_factory()
    assert isinstance(session, DriverSession)
    # No statement through SQLAlchemy before it, which would have begun the transaction.
    await session.execute(ADD, {"id": "S1", "city": "Shanghai"})
    await session.execute(ADD, {"id": "S2", "city": "Hangzhou"})
    seen_outside = await stores(session_factory)
    await session.rollback()
    await session.close()

    assert seen_outside == 0
    assert await stores(session_factory) == 0


async def test_answers_read_as_sqlalchemys(session_factory, engine: AsyncEngine):
    async with session_factory() as session, session.begin():
        await session.execute(ADD, {"id": "S1", "city": "Shanghai"})
        await session.execute(ADD, {"id": "S2", "city": "Hangzhou"})
        fast = await session.execute(CITIES, {"ids": ["S1", "S2", "S3"]})
        moved = await session.execute(
            text("UPDATE stores SET name = 'x' WHERE id = ANY(CAST(:ids AS text[]))"),
            {"ids": ["S1", "S2", "S3"]},
        )
        ids = (await session.scalars(CITIES, {"ids": ["S2"]})).all()
        none = await session.execute(CITIES, {"ids": ["S9"]})
        two = await session.execute(CITIES, {"ids": ["S1", "S2"]})
    async with AsyncSession(engine) as plain:
        slow = await plain.execute(CITIES, {"ids": ["S1", "S2", "S3"]})
        expected = slow.all()

    rows = fast.all()
    assert rows == expected == [("S1", "Shanghai"), ("S2", "Hangzhou")]
    assert [(r.id, r.city) for r in rows] == [("S1", "Shanghai"), ("S2", "Hangzhou")]
    assert dict(rows[0]._mapping) == {"id": "S1", "city": "Shanghai"}
    assert moved.rowcount == 2
    assert ids == ["S2"]
    assert none.one_or_none() is None and none.first() is None
    with pytest.raises(exc.NoResultFound):
        none.one()
    with pytest.raises(exc.MultipleResultsFound):
        two.scalar_one_or_none()


async def test_errors_are_sqlalchemys_and_roll_the_transaction_back(session_factory):
    async with session_factory() as session, session.begin():
        await session.execute(ADD, {"id": "S1", "city": "Shanghai"})

    session = session_factory()
    await session.execute(ADD, {"id": "S2", "city": "Suzhou"})
    with pytest.raises(exc.IntegrityError) as caught:
        await session.execute(ADD, {"id": "S1", "city": "Hangzhou"})
    await session.rollback()
    await session.close()

    assert sqlstate(caught.value) == "23505"
    assert await stores(session_factory) == 1


async def test_the_engines_listeners_see_the_statements(session_factory, engine):
    with counted_statements(engine) as statements:
        async with session_factory() as session, session.begin():
            await session.execute(ADD, {"id": "S1", "city": "Shanghai"})
            await session.scalar(COUNT)

    assert statements == ["INSERT INTO stores (id, city) VALUES ($1, $2)", COUNT.text]


async def test_sessions_in_parallel_keep_to_their_own_transactions(session_factory):
    async def add_then_decide(n: int) -> None:
        async with session_factory() as session:
            await session.execute(ADD, {"id": f"S{n}", "city": "Shanghai"})
            await asyncio.sleep(0)
            if n % 2:
                await session.commit()
            else:
                await session.rollback()

    await asyncio.gather(*(add_then_decide(n) for n in range(40)))

    assert await stores(session_factory) == 20


async def test_a_new_transaction_never_runs_on_the_connection_it_gave_back(database_url):
    # One pooled connection: after the first commit, another session takes it over.
    engine = create_engine(database_url, pool_size=1, max_overflow=1)
    sessions = create_session_factory(engine, EventHooks())
    try:
        first = sessions()
        await first.execute(ADD, {"id": "S1", "city": "Shanghai"})
        await first.commit()
        other = sessions()
        await other.execute(ADD, {"id": "S2", "city": "Suzhou"})
        await first.execute(ADD, {"id": "S3", "city": "Hangzhou"})
        await other.rollback()
        await first.commit()
        async with sessions() as reader:
            kept = (await reader.scalars(CITIES, {"ids": ["S1", "S2", "S3"]})).all()
        await first.close()
        await other.close()
    finally:
        await engine.dispose()

    assert kept == ["S1", "S3"]


async def test_every_way_of_running_plain_text_takes_the_fast_path(session_factory, engine):
    paths: list[str] = []

    def seen(conn, cursor, statement, parameters, context, executemany) -> None:  # type:
        # ignore[no-untyped-def]
        # SQLAlchemy's own path hands listeners its execution context; the fast path none.
        paths.append("fast" if context is None else "sqlalchemy")

    event.listen(engine.sync_engine, "before_cursor_execute", seen)
    try:
        async with session_factory() as session, session.begin():
            await session.execute(ADD, {"id": "S1", "city": "Shanghai"})
            await session.scalar(COUNT)
            await session.scalars(CITIES, {"ids": ["S1"]})
            await session.execute(select(literal(1)))
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", seen)

    assert paths == ["fast", "fast", "fast", "sqlalchemy"]

"""Migrations run up from an empty database, and again without change."""

from __future__ import annotations

import uuid

from sqlalchemy import text

from hub.db.engine import create_engine
from hub.db.migrate import MIGRATIONS, current_revision, migrate
from tests.conftest import create_database, drop_database


def head_revision() -> str:
    from alembic.script import ScriptDirectory

    from hub.db.migrate import alembic_config

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


async def test_migrations_up_from_empty_and_idempotent(server_url):
    name = f"memberhub_empty_{uuid.uuid4().hex[:8]}"
    url = await create_database(server_url, name)
    engine = create_engine(url, pool_size=1)
    try:
        assert await current_revision(engine) is None

        await migrate(engine)
        await migrate(engine)

        assert await current_revision(engine) == head_revision()
        async with engine.connect() as conn:
            tables = set(
                (
                    await conn.execute(
                        text("SELECT tablename FROM pg_tables WHERE schemaname='public'")
                    )
                )
                .scalars()
                .all()
            )
        assert {"api_clients", "outbox_events", "alembic_version"} <= tables
    finally:
        await engine.dispose()
        await drop_database(server_url, name)


def test_migrations_live_in_the_package():
    assert (MIGRATIONS / "env.py").exists()
    assert any((MIGRATIONS / "versions").glob("0001_*.py"))


async def test_members_enrolled_before_0008_get_their_points_accounts(server_url):
    name = f"memberhub_0008_{uuid.uuid4().hex[:8]}"
    url = await create_database(server_url, name)
    engine = create_engine(url, pool_size=1)
    try:
        await migrate(engine, "0007")
        async with engine.begin() as conn:
            ids = (
                (
                    await conn.execute(
                        text(
                            "INSERT INTO members (registered_channel, created_at, updated_at)"
                            " SELECT 'POS', now(), now() FROM generate_series(1, 3) RETURNING id"
                        )
                    )
                )
                .scalars()
                .all()
            )
            # The first has posted before: its account and a balance exist already.
            await conn.execute(
                text("INSERT INTO points_accounts (member_id) VALUES (:m)"), {"m": ids[0]}
            )
            await conn.execute(
                text(
                    "INSERT INTO points_balances (member_id, bucket, balance)"
                    " VALUES (:m, 'AVAILABLE', 7)"
                ),
                {"m": ids[0]},
            )

        await migrate(engine)

        async with engine.connect() as conn:
            accounts = (
                (await conn.execute(text("SELECT member_id FROM points_accounts ORDER BY 1")))
                .scalars()
                .all()
            )
            balances = (
                await conn.execute(
                    text("SELECT member_id, bucket, balance FROM points_balances ORDER BY 1, 2")
                )
            ).all()
        assert accounts == sorted(ids)
        assert [tuple(b) for b in balances] == [
            (m, bucket, 7 if (m, bucket) == (ids[0], "AVAILABLE") else 0)
            for m in sorted(ids)
            for bucket in ("AVAILABLE", "HELD", "PENDING")
        ]
    finally:
        await engine.dispose()
        await drop_database(server_url, name)

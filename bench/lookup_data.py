"""Members for the lookup benchmark: phones, and points posted through the ledger."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import text

from hub.clients import create_client
from hub.db.engine import create_engine, create_session_factory
from hub.http.principal import ClientKind
from hub.wiring import build_event_bus
from ledger.adjustment import adjust_points
from ledger.model import LedgerConfig

FIRST_PHONE = 13_800_000_000


def phone(index: int) -> str:
    return f"+86{FIRST_PHONE + index}"


async def load_members(url: str, count: int, *, connections: int = 8) -> str:
    """``count`` members with a verified phone each and some points; answers an admin key."""
    engine = create_engine(url, pool_size=connections, max_overflow=0)
    sessions = create_session_factory(engine, build_event_bus())
    now = datetime.now(UTC)
    try:
        async with sessions.begin() as session:
            await session.execute(
                text(
                    "INSERT INTO members (registered_channel, created_at, updated_at)"
                    " SELECT 'POS', :now, :now FROM generate_series(1, :count)"
                ),
                {"now": now, "count": count},
            )
            await session.execute(
                text(
                    "INSERT INTO member_identities"
                    " (member_id, type, value, verified, channel, linked_at, last_seen_at)"
                    " SELECT id, 'PHONE', '+86' || (:first + id - 1)::text, true, 'POS', :now, :now"
                    " FROM members"
                ),
                {"first": FIRST_PHONE, "now": now},
            )
            # A third of the members above the lowest tier, as a programme a year in has.
            await session.execute(
                text(
                    "INSERT INTO member_tiers (member_id, tier_code, since, reason)"
                    " SELECT id, CASE WHEN id % 9 = 0 THEN 'GOLD' ELSE 'SILVER' END,"
                    " :now, 'UPGRADE' FROM members WHERE id % 3 = 0"
                ),
                {"now": now},
            )
            _client, key = await create_client(session, name="bench", kind=ClientKind.ADMIN)
            member_ids = list((await session.scalars(text("SELECT id FROM members"))).all())

        config = LedgerConfig(time_zone="Asia/Shanghai")
        queue: asyncio.Queue[int] = asyncio.Queue()
        for member_id in member_ids:
            queue.put_nowait(member_id)

        async def post_points() -> None:
            while not queue.empty():
                member_id = queue.get_nowait()
                async with sessions.begin() as session:
                    await adjust_points(
                        session=session,
                        member_id=member_id,
                        points=100 + member_id % 900,
                        reason="opening balance",
                        actor="bench",
                        key_scope="bench",
                        key=f"open-{member_id}",
                        now=now,
                        config=config,
                    )

        await asyncio.gather(*(post_points() for _ in range(connections)))
        async with engine.connect() as conn:
            # Fresh statistics, as autovacuum would leave them on a live database.
            await conn.execute(text("ANALYZE"))
        return key
    finally:
        await engine.dispose()

"""Small builders of test data. Each area adds its own functions; none rewrites another's."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from tests.conftest import START


async def insert_member(
    session: AsyncSession, *, channel: str = "MINI_PROGRAM", created_at: datetime = START
) -> int:
    """A bare ACTIVE member row, for tests of areas that only need a member ID."""
    return await session.scalar(
        text(
            "INSERT INTO members (registered_channel, created_at, updated_at)"
            " VALUES (:channel, :at, :at) RETURNING id"
        ),
        {"channel": channel, "at": created_at},
    )


async def insert_members(session: AsyncSession, count: int) -> list[int]:
    return [await insert_member(session) for _ in range(count)]

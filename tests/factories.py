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


async def insert_purchase(
    session: AsyncSession,
    member_id: int | None,
    amount: str,
    at: datetime,
    *,
    refunded: str = "0",
    status: str = "COMPLETED",
    channel: str = "POS",
    store: str = "S001",
    promotion: bool = False,
    category: str | None = None,
) -> int:
    """A purchase row as the ingest would leave it (with one item line when a category is
    given), for tests of what reads purchases."""
    await session.execute(
        text("INSERT INTO stores (id, created_at) VALUES (:s, :at) ON CONFLICT DO NOTHING"),
        {"s": store, "at": at},
    )
    purchase_id = await session.scalar(
        text(
            "INSERT INTO purchases (member_id, store_id, receipt_no, channel, amount,"
            " refunded_amount, occurred_at, recorded_at, status, has_promotion, content_hash,"
            " rule_version, business_day) VALUES (:m, :s, gen_random_uuid()::text, :c,"
            " CAST(:a AS numeric), CAST(:r AS numeric), :at, :at, :st, :promo, '\\x00', 'test',"
            " CAST(:at AS timestamptz)::date) RETURNING id"
        ),
        {
            "m": member_id,
            "s": store,
            "c": channel,
            "a": amount,
            "r": refunded,
            "at": at,
            "st": status,
            "promo": promotion,
        },
    )
    if category is not None:
        await session.execute(
            text(
                "INSERT INTO purchase_items (purchase_id, line_no, member_id, sku, category,"
                " quantity, unit_price) VALUES (:p, 1, :m, 'SKU-1', :c, 1, CAST(:a AS numeric))"
            ),
            {"p": purchase_id, "m": member_id, "c": category, "a": amount},
        )
    return int(purchase_id)

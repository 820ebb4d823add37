"""Stores (and online shops) and the staff who ring up sales at them.

A store is registered by the CLI, or by the first purchase naming it (with no city, so
IMPOSSIBLE_TRAVEL skips it until an operator gives it one).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


class StoreError(ValueError):
    code = "INVALID_INPUT"


@dataclass(frozen=True)
class Store:
    id: str
    name: str | None
    city: str | None
    time_zone: str


async def ensure_store(session: AsyncSession, store_id: str, *, now: datetime) -> Store:
    """The store ``store_id``, registered (without a city) when first named."""
    return (await ensure_stores(session, [store_id], now=now))[store_id]


async def ensure_stores(
    session: AsyncSession, store_ids: Iterable[str], *, now: datetime
) -> dict[str, Store]:
    """The stores named, by ID, each registered (without a city) when first named."""
    ids = sorted(set(store_ids))
    rows = await session.execute(_REGISTERED_OR_KNOWN, {"ids": ids, "now": now})
    stores = {row.id: _store(row) for row in rows}
    if missing := [i for i in ids if i not in stores]:
        # Registered by a transaction that committed after this statement's snapshot: its
        # row conflicted, yet the snapshot could not see it. A new statement does.
        rows = await session.execute(_STORES, {"ids": missing})
        stores.update({row.id: _store(row) for row in rows})
    return stores


#: The stores registered now and those known already, in one statement (one round trip a
#: batch of purchases).
#: What a ``Store`` is built from (``_store``).
_COLUMNS = "id, name, city, time_zone"
_REGISTERED_OR_KNOWN = text(
    "WITH registered AS (INSERT INTO stores (id, created_at)"
    "  SELECT unnest(CAST(:ids AS text[])), :now ON CONFLICT (id) DO NOTHING"
    f"  RETURNING {_COLUMNS})"
    f" SELECT {_COLUMNS} FROM registered"
    f" UNION ALL SELECT {_COLUMNS} FROM stores WHERE id = ANY(:ids)"
)
_STORES = text(f"SELECT {_COLUMNS} FROM stores WHERE id = ANY(:ids)")


def _store(row: Any) -> Store:
    return Store(row.id, row.name, row.city, row.time_zone)


async def save_store(
    session: AsyncSession,
    *,
    store_id: str,
    name: str | None,
    city: str | None,
    time_zone: str | None,
    now: datetime,
) -> Store:
    """Register a store, or update the details given of a known one."""
    store_id = store_id.strip()
    if not store_id:
        raise StoreError("a store needs an ID")
    row = (
        await session.execute(
            text(
                "INSERT INTO stores (id, name, city, time_zone, created_at)"
                " VALUES (:id, :name, :city, coalesce(:zone, 'Asia/Shanghai'), :now)"
                " ON CONFLICT (id) DO UPDATE SET name = coalesce(:name, stores.name),"
                " city = coalesce(:city, stores.city),"
                " time_zone = coalesce(:zone, stores.time_zone)"
                f" RETURNING {_COLUMNS}"
            ),
            {"id": store_id, "name": name, "city": city, "zone": time_zone, "now": now},
        )
    ).one()
    return _store(row)


async def save_staff(
    session: AsyncSession, *, operator_id: str, member_id: int, store_id: str | None, now: datetime
) -> None:
    """Register a cashier's own member account (STAFF_SELF_DEALING reads it)."""
    if store_id is not None:
        await ensure_store(session, store_id, now=now)
    await session.execute(
        text(
            "INSERT INTO staff (operator_id, member_id, store_id, created_at)"
            " VALUES (:operator, :member, :store, :now) ON CONFLICT (operator_id)"
            " DO UPDATE SET member_id = :member, store_id = :store"
        ),
        {"operator": operator_id, "member": member_id, "store": store_id, "now": now},
    )


async def list_stores(session: AsyncSession) -> list[Store]:
    rows = await session.execute(text(f"SELECT {_COLUMNS} FROM stores ORDER BY id"))
    return [_store(r) for r in rows]

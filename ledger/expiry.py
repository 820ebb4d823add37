"""Expiry and settlement: plain functions the scheduled jobs call, safe to run any time.

Both work member by member under the member's lock and re-read the lots after locking, so
a redemption racing with them is never double-counted, and a second run posts nothing.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.model import Bucket, Channel, EntryKind, EntryRequest, LedgerConfig
from ledger.posting import lock_members, post_entries
from ledger.tables import points_lots

lots = points_lots.c


async def expire_lots(*, session: AsyncSession, now: datetime, config: LedgerConfig) -> int:
    """Post an EXPIRE entry for the unspent rest of every AVAILABLE lot whose expiry has
    passed; answer how many entries were posted."""
    posted = 0
    for member_id in await _members_with(session, Bucket.AVAILABLE, lots.expires_at <= now):
        await lock_members(session, [member_id])
        rows = await session.execute(
            select(lots.entry_id, lots.remaining)
            .where(
                lots.member_id == member_id,
                lots.bucket == Bucket.AVAILABLE.value,
                lots.remaining > 0,
                lots.expires_at <= now,
            )
            .order_by(lots.expires_at, lots.entry_id)
        )
        requests = [
            EntryRequest(
                member_id=member_id,
                kind=EntryKind.EXPIRE,
                bucket=Bucket.AVAILABLE,
                amount=-row.remaining,
                channel=Channel.ADMIN,
                consumes_lot=row.entry_id,
                reason="points expired",
            )
            for row in rows
        ]
        if requests:
            result = await post_entries(
                session=session,
                requests=requests,
                now=now,
                config=config,
                operation="expire",
                require_active=False,
            )
            posted += len(result.entries)
    return posted


async def settle_pending(*, session: AsyncSession, now: datetime, config: LedgerConfig) -> int:
    """Move every PENDING lot that is due to AVAILABLE (a SETTLE pair: pending debit, then
    available credit forming a new lot); answer how many lots settled."""
    settled = 0
    for member_id in await _members_with(session, Bucket.PENDING, lots.available_at <= now):
        await lock_members(session, [member_id])
        rows = await session.execute(
            select(lots.entry_id, lots.remaining)
            .where(
                lots.member_id == member_id,
                lots.bucket == Bucket.PENDING.value,
                lots.remaining > 0,
                lots.available_at <= now,
            )
            .order_by(lots.available_at, lots.entry_id)
        )
        requests: list[EntryRequest] = []
        for row in rows:
            common = {"member_id": member_id, "kind": EntryKind.SETTLE, "channel": Channel.ADMIN}
            requests.append(
                EntryRequest(
                    **common,
                    bucket=Bucket.PENDING,
                    amount=-row.remaining,
                    consumes_lot=row.entry_id,
                )
            )
            requests.append(
                EntryRequest(
                    **common,
                    bucket=Bucket.AVAILABLE,
                    amount=row.remaining,
                    reference=f"settles lot {row.entry_id}",
                )
            )
        if requests:
            await post_entries(
                session=session,
                requests=requests,
                now=now,
                config=config,
                operation="settle",
                require_active=False,
            )
            settled += len(requests) // 2
    return settled


async def _members_with(session: AsyncSession, bucket: Bucket, due: object) -> list[int]:
    rows = await session.execute(
        select(lots.member_id)
        .where(lots.bucket == bucket.value, lots.remaining > 0, due)  # type: ignore[arg-type]
        .distinct()
        .order_by(lots.member_id)
    )
    return list(rows.scalars())

"""Expiry and settlement: plain functions the scheduled jobs call, safe to run any time.

Both work a batch of members at a time: lock the batch's accounts (in member order), read
all their due lots in one statement after locking, and post the batch's entries in one
posting. A redemption racing with them is never double-counted, and a second run finds
nothing due.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.model import Bucket, Channel, EntryKind, EntryRequest, LedgerConfig
from ledger.posting import lock_members, post_entries
from ledger.tables import points_lots

lots = points_lots.c

#: Members per posting: bounds one posting's locks and memory.
BATCH = 500


async def _post_due(
    session: AsyncSession,
    *,
    bucket: Bucket,
    due: ColumnElement[bool],
    order: Any,
    entries_for: Callable[[Any], Sequence[EntryRequest]],
    operation: str,
    now: datetime,
    config: LedgerConfig,
) -> int:
    """Post ``entries_for(lot)`` for every lot of ``bucket`` that is ``due``; answers how
    many lots were handled."""
    open_due = (lots.bucket == bucket.value, lots.remaining > 0, due)
    members = list(
        (
            await session.execute(
                select(lots.member_id).where(*open_due).distinct().order_by(lots.member_id)
            )
        ).scalars()
    )
    handled = 0
    for start in range(0, len(members), BATCH):
        batch = members[start : start + BATCH]
        await lock_members(session, batch)
        rows = (
            await session.execute(
                select(lots.member_id, lots.entry_id, lots.remaining)
                .where(lots.member_id.in_(batch), *open_due)
                .order_by(lots.member_id, order, lots.entry_id)
            )
        ).all()
        requests = [request for row in rows for request in entries_for(row)]
        if requests:
            await post_entries(
                session=session,
                requests=requests,
                now=now,
                config=config,
                operation=operation,
                require_active=False,
            )
            handled += len(rows)
    return handled


async def expire_lots(*, session: AsyncSession, now: datetime, config: LedgerConfig) -> int:
    """Post an EXPIRE entry for the unspent rest of every AVAILABLE lot whose expiry has
    passed; answer how many entries were posted."""

    def expire(lot: Any) -> list[EntryRequest]:
        return [
            EntryRequest(
                member_id=lot.member_id,
                kind=EntryKind.EXPIRE,
                bucket=Bucket.AVAILABLE,
                amount=-lot.remaining,
                channel=Channel.ADMIN,
                consumes_lot=lot.entry_id,
                reason="points expired",
            )
        ]

    return await _post_due(
        session,
        bucket=Bucket.AVAILABLE,
        due=lots.expires_at <= now,
        order=lots.expires_at,
        entries_for=expire,
        operation="expire",
        now=now,
        config=config,
    )


async def settle_pending(*, session: AsyncSession, now: datetime, config: LedgerConfig) -> int:
    """Move every PENDING lot that is due to AVAILABLE (a SETTLE pair: pending debit, then
    available credit forming a new lot); answer how many lots settled."""

    def settle(lot: Any) -> list[EntryRequest]:
        common = {"member_id": lot.member_id, "kind": EntryKind.SETTLE, "channel": Channel.ADMIN}
        return [
            EntryRequest(
                **common, bucket=Bucket.PENDING, amount=-lot.remaining, consumes_lot=lot.entry_id
            ),
            EntryRequest(
                **common,
                bucket=Bucket.AVAILABLE,
                amount=lot.remaining,
                reference=f"settles lot {lot.entry_id}",
            ),
        ]

    return await _post_due(
        session,
        bucket=Bucket.PENDING,
        due=lots.available_at <= now,
        order=lots.available_at,
        entries_for=settle,
        operation="settle",
        now=now,
        config=config,
    )

"""Expiry and settlement: plain functions the scheduled jobs call, safe to run any time.

Both work a batch of members at a time, in member order: lock the batch's accounts, read
all their due lots in one statement after locking, compose every entry of the batch (each
chained to its member's previous one) and write them with a fixed number of statements
whatever the batch holds: one INSERT for the entries, one UPDATE for the lots they take
from, one INSERT for the lots they open, one UPDATE each for the balances and the
accounts, one outbox INSERT for the events. A redemption racing with them is never
double-counted, and a second run finds nothing due.

No fraud rule judges settlement or expiry (the rules are registered for earning and
redeeming), so the batch is not run through the checks.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import publish_many
from ledger.checks import ACCEPTED
from ledger.entries import (
    compose_entry,
    credit_lot,
    entry_event,
    insert_entries,
    insert_lots,
    save_accounts_and_balances,
    take_from_lots,
)
from ledger.model import Bucket, Channel, EntryKind, EntryRequest, LedgerConfig
from ledger.posting import lock_members
from ledger.tables import points_lots

lots = points_lots.c

#: Members per batch: bounds one batch's locks and memory.
BATCH = 500


async def _post_due(
    session: AsyncSession,
    *,
    bucket: Bucket,
    due: ColumnElement[bool],
    order: Any,
    entries_for: Callable[[Any], Sequence[EntryRequest]],
    now: datetime,
    config: LedgerConfig,
) -> int:
    """Post ``entries_for(lot)`` for every lot of ``bucket`` that is ``due``; answers how
    many lots were handled."""
    open_due = (lots.bucket == bucket.value, lots.remaining > 0, due)
    handled = 0
    after = 0
    while True:
        # Members a batch at a time, by key: the job never holds every due member in memory.
        batch = list(
            (
                await session.execute(
                    select(lots.member_id)
                    .where(*open_due, lots.member_id > after)
                    .group_by(lots.member_id)
                    .order_by(lots.member_id)
                    .limit(BATCH)
                )
            ).scalars()
        )
        if not batch:
            return handled
        after = batch[-1]
        accounts = await lock_members(session, batch)
        rows = (
            await session.execute(
                select(lots.member_id, lots.entry_id, lots.remaining)
                .where(lots.member_id.in_(batch), *open_due)
                .order_by(lots.member_id, order, lots.entry_id)
            )
        ).all()
        values: list[dict[str, Any]] = []
        balances_before: list[int] = []
        for row in rows:
            for request in entries_for(row):
                entry_values, before = compose_entry(
                    accounts[request.member_id], request, ACCEPTED, now, config, None
                )
                values.append(entry_values)
                balances_before.append(before)
        if not values:
            continue
        entries = await insert_entries(session, values)
        # Each debit names its lot and takes all that is left of it (read under the lock).
        await take_from_lots(
            session,
            [(e.member_id, e.consumes_lot, -e.amount) for e in entries if e.amount < 0],
        )
        opened = [
            lot
            for entry, before in zip(entries, balances_before, strict=True)
            if entry.amount > 0 and (lot := credit_lot(entry, before)) is not None
        ]
        if opened:
            await insert_lots(session, opened)
        await save_accounts_and_balances(
            session, (accounts[m] for m in batch if m in accounts), entries
        )
        await publish_many(session, [entry_event(e) for e in entries])
        handled += len(rows)


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
        now=now,
        config=config,
    )

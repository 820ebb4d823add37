"""Points follow merges: MembersMerged moves them to the survivor, MembersUnmerged back.

A merge posts, per bucket, one MERGE_OUT for the merged member's whole balance and one
MERGE_IN per lot to the survivor, each carrying its lot's expiry (or settlement time), so
nothing expires earlier or later for having moved. A debt (negative available) moves as
one MERGE_IN of the negative amount. HELD points stay with the merged member's holds.

Undoing the merge gives back exactly what the merge moved, less what was spent since:
for each lot the merge created on the survivor, its unspent rest returns with its expiry
(MERGE_OUT from the survivor taking that lot, MERGE_IN to the restored member); a moved
debt returns whole. The share spent in between (the survivor spent first-in-first-out,
merged points included, or pending points settled) is the shortfall, recorded as
``unreturned`` on the UNMERGE row of ``points_merge_moves`` and settled at once: a MERGE_IN
of that many points to the restored member and a MERGE_IN of the negative amount to the
survivor, a debt that blocks its redemptions until repaid, as a clawback's does.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import and_, select, text
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.model import Bucket, Channel, EntryKind, EntryRequest, LedgerConfig
from ledger.posting import lock_members, post_entries
from ledger.queries import Execute, balances_of
from ledger.tables import ledger_entries, points_lots, points_merge_moves

lots = points_lots.c
entries = ledger_entries.c


@dataclass(frozen=True)
class MergeMove:
    available: int
    pending: int
    unreturned: int = 0


async def move_points_on_merge(
    *,
    session: AsyncSession,
    survivor_id: int,
    merged_id: int,
    merge_id: int,
    now: datetime,
    config: LedgerConfig,
) -> MergeMove | None:
    """Move the merged member's points to the survivor; None when this merge was handled."""
    await lock_members(session, [survivor_id, merged_id])
    balances = await balances_of(session, merged_id)
    claimed = await session.execute(
        insert(points_merge_moves)
        .values(
            member_id=survivor_id,
            merge_id=merge_id,
            direction="MERGE",
            counterpart=merged_id,
            available=balances.available,
            pending=balances.pending,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(points_merge_moves.c.merge_id)
    )
    if claimed.first() is None:
        return None
    reference = f"merge {merge_id}"
    requests: list[EntryRequest] = []
    for bucket, balance in (
        (Bucket.AVAILABLE, balances.available),
        (Bucket.PENDING, balances.pending),
    ):
        if balance > 0:
            requests.append(_entry(merged_id, EntryKind.MERGE_OUT, bucket, -balance, reference))
            for lot in await _open_lots(session, merged_id, bucket):
                requests.append(
                    _entry(
                        survivor_id,
                        EntryKind.MERGE_IN,
                        bucket,
                        lot.remaining,
                        reference,
                        expires_at=lot.expires_at,
                        available_at=lot.available_at,
                    )
                )
        elif balance < 0:
            requests.append(_entry(merged_id, EntryKind.MERGE_OUT, bucket, -balance, reference))
            requests.append(_entry(survivor_id, EntryKind.MERGE_IN, bucket, balance, reference))
    if requests:
        await post_merge_entries(session, requests, now, config)
    return MergeMove(available=balances.available, pending=balances.pending)


async def return_points_on_unmerge(
    *,
    session: AsyncSession,
    survivor_id: int,
    restored_id: int,
    merge_id: int,
    now: datetime,
    config: LedgerConfig,
) -> MergeMove | None:
    """Give the restored member back what the merge moved and is unspent; None when the
    merge moved nothing through the ledger or this unmerge was handled."""
    await lock_members(session, [survivor_id, restored_id])
    moved = (
        await session.execute(
            select(points_merge_moves).where(
                points_merge_moves.c.merge_id == merge_id,
                points_merge_moves.c.direction == "MERGE",
            )
        )
    ).first()
    if moved is None:
        return None
    reference = f"unmerge {merge_id}"
    merged_in = (
        await session.execute(
            select(
                entries.id,
                entries.bucket,
                entries.amount,
                lots.remaining,
                lots.expires_at,
                lots.available_at,
            )
            .outerjoin(
                points_lots, and_(lots.member_id == entries.member_id, lots.entry_id == entries.id)
            )
            .where(
                entries.member_id == survivor_id,
                entries.kind == EntryKind.MERGE_IN.value,
                entries.reference == f"merge {merge_id}",
            )
            .order_by(entries.seq)
        )
    ).all()
    requests: list[EntryRequest] = []
    returned = {Bucket.AVAILABLE: 0, Bucket.PENDING: 0}
    for row in merged_in:
        bucket = Bucket(row.bucket)
        if row.amount < 0:
            requests.append(
                _entry(survivor_id, EntryKind.MERGE_OUT, bucket, -row.amount, reference)
            )
            requests.append(_entry(restored_id, EntryKind.MERGE_IN, bucket, row.amount, reference))
        elif row.remaining:
            requests.append(
                _entry(
                    survivor_id, EntryKind.MERGE_OUT, bucket, -row.remaining, reference, lot=row.id
                )
            )
            requests.append(
                _entry(
                    restored_id,
                    EntryKind.MERGE_IN,
                    bucket,
                    row.remaining,
                    reference,
                    expires_at=row.expires_at,
                    available_at=row.available_at,
                )
            )
            returned[bucket] += row.remaining
    unreturned = (
        max(moved.available, 0)
        - returned[Bucket.AVAILABLE]
        + moved.pending
        - returned[Bucket.PENDING]
    )
    result = MergeMove(
        available=returned[Bucket.AVAILABLE] + min(moved.available, 0),
        pending=returned[Bucket.PENDING],
        unreturned=unreturned,
    )
    claimed = await session.execute(
        insert(points_merge_moves)
        .values(
            member_id=restored_id,
            merge_id=merge_id,
            direction="UNMERGE",
            counterpart=survivor_id,
            available=result.available,
            pending=result.pending,
            unreturned=unreturned,
            created_at=now,
        )
        .on_conflict_do_nothing()
        .returning(points_merge_moves.c.merge_id)
    )
    if claimed.first() is None:
        return None
    if unreturned > 0:
        requests.extend(_shortfall(survivor_id, restored_id, unreturned, merge_id))
    if requests:
        await post_merge_entries(session, requests, now, config)
    return result


def _shortfall(
    survivor_id: int, restored_id: int, points: int, merge_id: int
) -> list[EntryRequest]:
    """The survivor owes what it spent of the restored member's points while merged."""
    reason = f"spent of member {restored_id}'s points while merged"
    return [
        replace(
            _entry(
                survivor_id, EntryKind.MERGE_IN, Bucket.AVAILABLE, -points, f"unmerge {merge_id}"
            ),
            reason=reason,
        ),
        replace(
            _entry(
                restored_id, EntryKind.MERGE_IN, Bucket.AVAILABLE, points, f"unmerge {merge_id}"
            ),
            reason=reason,
        ),
    ]


async def load_shortfalls(execute: Execute, merge_ids: Sequence[int]) -> list[int | None]:
    """The shortfall settled when each merge was undone; None for a merge not undone."""
    rows = await execute(_SHORTFALLS, {"ids": list(merge_ids)})
    found = {row.merge_id: row.unreturned for row in rows}
    return [found.get(m) for m in merge_ids]


_SHORTFALLS = text(
    "SELECT merge_id, unreturned FROM points_merge_moves"
    " WHERE merge_id = ANY(CAST(:ids AS bigint[])) AND direction = 'UNMERGE'"
)


@dataclass(frozen=True)
class _Lot:
    remaining: int
    expires_at: datetime | None
    available_at: datetime | None


async def _open_lots(session: AsyncSession, member_id: int, bucket: Bucket) -> list[_Lot]:
    rows = await session.execute(
        select(lots.remaining, lots.expires_at, lots.available_at)
        .where(lots.member_id == member_id, lots.bucket == bucket.value, lots.remaining > 0)
        .order_by(lots.expires_at, lots.available_at, lots.entry_id)
    )
    return [_Lot(r.remaining, r.expires_at, r.available_at) for r in rows]


def _entry(
    member_id: int,
    kind: EntryKind,
    bucket: Bucket,
    amount: int,
    reference: str,
    *,
    expires_at: datetime | None = None,
    available_at: datetime | None = None,
    lot: int | None = None,
) -> EntryRequest:
    return EntryRequest(
        member_id=member_id,
        kind=kind,
        bucket=bucket,
        amount=amount,
        channel=Channel.ADMIN,
        reference=reference,
        expires_at=expires_at,
        available_at=available_at,
        consumes_lot=lot,
    )


async def post_merge_entries(
    session: AsyncSession, requests: list[EntryRequest], now: datetime, config: LedgerConfig
) -> None:
    """Post entries that move points between members (either of them may be merged)."""
    await post_entries(
        session=session,
        requests=requests,
        now=now,
        config=config,
        operation="merge",
        require_active=False,
    )

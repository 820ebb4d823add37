"""A purchase's points follow the purchase when it turns out to be another member's (an
unmerge returns it to the member it was made by): ``transfer_earnings`` moves what it
earned, ``transfer_clawbacks`` what its refunds took back.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Row, TextClause, text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.merges import post_merge_entries
from ledger.model import Bucket, Channel, EntryKind, EntryRequest, LedgerConfig
from ledger.posting import lock_members


async def transfer_earnings(
    *,
    session: AsyncSession,
    from_id: int,
    to_id: int,
    references: Sequence[str],
    reason: str,
    now: datetime,
    config: LedgerConfig,
) -> int:
    """Move what ``from_id`` earned for ``references`` (purchases that turn out to be
    ``to_id``'s) to ``to_id``, as earnings, so that lifetime totals and later refunds follow
    the purchase: the unspent rest of each lot is clawed back from ``from_id`` and earned by
    ``to_id`` with its expiry or settlement time; what was spent or settled of it is clawed
    back from AVAILABLE (a debt, if ``from_id`` lacks it) and earned by ``to_id`` as
    available points. Points a refund already clawed back stay taken. Answers the points
    ``from_id`` had spent or settled.
    """
    rows = await _rows_to_move(session, _EARNINGS_TO_MOVE, from_id, to_id, references)
    requests: list[EntryRequest] = []
    settled = 0
    for row in rows:
        common = {"channel": Channel.ADMIN, "reference": row.reference, "reason": reason}
        remaining = row.remaining or 0
        if remaining:
            requests += _earning_moved(
                from_id,
                to_id,
                Bucket(row.bucket),
                remaining,
                taken={"consumes_lot": row.id},
                earned={"expires_at": row.expires_at, "available_at": row.available_at},
                **common,
            )
        spent = row.amount - remaining - row.clawed
        if spent > 0:
            requests += _earning_moved(from_id, to_id, Bucket.AVAILABLE, spent, **common)
            settled += spent
    if requests:
        await post_merge_entries(session, requests, now, config)
    return settled


#: Each earning lot of the references, with what is left of it and what clawbacks took.
_EARNINGS_TO_MOVE = text(
    "SELECT e.id, e.bucket, e.amount, e.reference, l.remaining, l.expires_at, l.available_at,"
    " coalesce((SELECT -sum(c.amount) FROM ledger_entries c WHERE c.member_id = e.member_id"
    "  AND c.kind = 'CLAWBACK' AND c.consumes_lot = e.id), 0) AS clawed"
    " FROM ledger_entries e LEFT JOIN points_lots l"
    "  ON l.member_id = e.member_id AND l.entry_id = e.id"
    " WHERE e.member_id = :member AND e.kind = 'EARN' AND e.amount > 0"
    " AND e.bucket IN ('PENDING', 'AVAILABLE') AND e.reference = ANY(CAST(:references AS text[]))"
    " ORDER BY e.seq"
)


async def transfer_clawbacks(
    *,
    session: AsyncSession,
    from_id: int,
    to_id: int,
    references: Sequence[str],
    reason: str,
    now: datetime,
    config: LedgerConfig,
) -> int:
    """Move the clawbacks ``from_id`` bears for ``references`` to ``to_id``: each is undone
    on ``from_id`` (a positive CLAWBACK naming it) and posted again on ``to_id``, where it
    may leave a debt. Answers the points moved; a clawback moved before is not moved again.
    """
    rows = await _rows_to_move(session, _CLAWBACKS_TO_MOVE, from_id, to_id, references)
    requests: list[EntryRequest] = []
    for row in rows:
        common = {
            "kind": EntryKind.CLAWBACK,
            "bucket": Bucket.AVAILABLE,
            "channel": Channel(row.channel),
            "store_id": row.store_id,
            "reference": row.reference,
            "reason": reason,
        }
        requests.append(
            EntryRequest(member_id=from_id, amount=-row.amount, reverses_id=row.id, **common)
        )
        requests.append(EntryRequest(member_id=to_id, amount=row.amount, **common))
    if requests:
        await post_merge_entries(session, requests, now, config)
    return -sum(row.amount for row in rows)


_CLAWBACKS_TO_MOVE = text(
    "SELECT e.id, e.amount, e.channel, e.store_id, e.reference FROM ledger_entries e"
    " WHERE e.member_id = :member AND e.kind = 'CLAWBACK' AND e.amount < 0"
    " AND e.bucket = 'AVAILABLE' AND e.reference = ANY(CAST(:references AS text[]))"
    " AND NOT EXISTS (SELECT 1 FROM ledger_entries r"
    "  WHERE r.member_id = e.member_id AND r.reverses_id = e.id)"
    " ORDER BY e.seq"
)


async def _rows_to_move(
    session: AsyncSession,
    statement: TextClause,
    from_id: int,
    to_id: int,
    references: Sequence[str],
) -> Sequence[Row[Any]]:
    """``from_id``'s entries that ``statement`` selects for ``references``, both members
    locked first (none when there are no references)."""
    if not references:
        return []
    await lock_members(session, [from_id, to_id])
    found = await session.execute(statement, {"member": from_id, "references": list(references)})
    return found.all()


def _earning_moved(
    from_id: int,
    to_id: int,
    bucket: Bucket,
    points: int,
    *,
    taken: Mapping[str, Any] | None = None,
    earned: Mapping[str, Any] | None = None,
    **common: Any,
) -> list[EntryRequest]:
    """``points`` of ``bucket`` clawed back from ``from_id`` and earned by ``to_id``."""
    return [
        EntryRequest(
            member_id=from_id,
            kind=EntryKind.CLAWBACK,
            bucket=bucket,
            amount=-points,
            **(taken or {}),
            **common,
        ),
        EntryRequest(
            member_id=to_id,
            kind=EntryKind.EARN,
            bucket=bucket,
            amount=points,
            **(earned or {}),
            **common,
        ),
    ]

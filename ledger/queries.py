"""Reads of the ledger, batched by member so that a list of members costs one query each.

The batch functions take ``execute`` (a coroutine running one statement): the API's
dataloaders pass the request's, which runs these plain ``text()`` reads on the read pool.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select, text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.model import Balances, Bucket, Channel, EntryKind, LedgerEntry
from ledger.tables import ledger_entries

Execute = Callable[..., Awaitable[Any]]


def entry_from_row(row: Any) -> LedgerEntry:
    return LedgerEntry(
        id=row.id,
        member_id=row.member_id,
        seq=row.seq,
        kind=EntryKind(row.kind),
        bucket=Bucket(row.bucket),
        amount=row.amount,
        balance_after=row.balance_after,
        channel=Channel(row.channel),
        store_id=row.store_id,
        reference=row.reference,
        reason=row.reason,
        idempotency_key=row.idempotency_key,
        expires_at=row.expires_at,
        available_at=row.available_at,
        reverses_id=row.reverses_id,
        consumes_lot=row.consumes_lot,
        held_for=Bucket(row.held_for) if row.held_for is not None else None,
        hold_reasons=tuple(row.hold_reasons) if row.hold_reasons is not None else None,
        created_at=row.created_at,
        prev_hash=bytes(row.prev_hash),
        hash=bytes(row.hash),
    )


async def entries_by_ids(
    session: AsyncSession, entry_ids: Sequence[int]
) -> tuple[LedgerEntry, ...]:
    if not entry_ids:
        return ()
    rows = await session.execute(
        select(ledger_entries)
        .where(ledger_entries.c.id.in_(entry_ids))
        .order_by(ledger_entries.c.id)
    )
    return tuple(entry_from_row(row) for row in rows)


async def balances_of(session: AsyncSession, member_id: int) -> Balances:
    return (await load_balances(session.execute, [member_id]))[0]


#: Built once: every points field of every request runs it, and a prebuilt statement skips
#: SQLAlchemy's per-call construction and cache-key work.
#: Joined through unnest so that the cached generic plan stays on the indexes: with
#: ``= ANY(array)`` it estimated a thousand rows and hashed all of points_accounts.
def lifetime_with_merged(member: str) -> str:
    """SQL for the lifetime earnings of ``member`` (a column or parameter) together with
    those of the members merged into it, and into them, for as long as each merge stands:
    the points moved with a merge were earned by the person the survivor now is.

    ``points_merge_moves`` holds a MERGE row for each merge the ledger moved and, once it
    is undone, an UNMERGE row; accounts keep their own totals, so ``ledger verify`` checks
    each account against its own entries.
    """
    return (
        "(SELECT coalesce(sum(folded_account.lifetime_earned), 0) FROM ("
        " WITH RECURSIVE folded(member_id) AS ("
        f"  SELECT CAST({member} AS bigint)"
        "  UNION SELECT m.counterpart FROM folded JOIN points_merge_moves m"
        "   ON m.member_id = folded.member_id AND m.direction = 'MERGE'"
        "   AND NOT EXISTS (SELECT 1 FROM points_merge_moves u"
        "    WHERE u.merge_id = m.merge_id AND u.direction = 'UNMERGE'))"
        " SELECT member_id FROM folded) AS folded"
        " JOIN points_accounts folded_account USING (member_id))"
    )


_BALANCES = text(
    "SELECT b.member_id, b.bucket, b.balance, lifetime.earned AS lifetime_earned"
    " FROM unnest(CAST(:member_ids AS bigint[])) AS k(member_id)"
    " JOIN points_accounts a ON a.member_id = k.member_id"
    " JOIN points_balances b ON b.member_id = k.member_id"
    f" CROSS JOIN LATERAL (SELECT {lifetime_with_merged('k.member_id')} AS earned) lifetime"
)


async def load_balances(execute: Execute, member_ids: Sequence[int]) -> list[Balances]:
    """Balances of each member, in the order asked (zero for members without entries)."""
    rows = await execute(_BALANCES, {"member_ids": list(member_ids)})
    found: dict[int, dict[str, int]] = {}
    for row in rows:
        slot = found.setdefault(row.member_id, {"lifetime": row.lifetime_earned})
        slot[row.bucket] = row.balance
    return [
        Balances(
            available=found.get(m, {}).get("AVAILABLE", 0),
            pending=found.get(m, {}).get("PENDING", 0),
            held=found.get(m, {}).get("HELD", 0),
            lifetime_earned=found.get(m, {}).get("lifetime", 0),
        )
        for m in member_ids
    ]


@dataclass(frozen=True)
class ExpiringLot:
    points: int
    expires_at: datetime


_OPEN_LOTS = text(
    "SELECT member_id, remaining, expires_at FROM points_lots"
    " WHERE member_id = ANY(CAST(:member_ids AS bigint[])) AND bucket = 'AVAILABLE'"
    " AND remaining > 0 ORDER BY member_id, expires_at, entry_id"
)


async def load_open_lots(execute: Execute, member_ids: Sequence[int]) -> list[list[ExpiringLot]]:
    """Each member's unspent AVAILABLE lots, earliest expiry first."""
    rows = await execute(_OPEN_LOTS, {"member_ids": list(member_ids)})
    by_member: dict[int, list[ExpiringLot]] = {m: [] for m in member_ids}
    for row in rows:
        by_member[row.member_id].append(ExpiringLot(row.remaining, row.expires_at))
    return [by_member[m] for m in member_ids]


def expiring_within(
    lots: Iterable[ExpiringLot], *, now: datetime, until: datetime
) -> list[ExpiringLot]:
    """Points expiring after ``now`` and by ``until``, summed per expiry moment."""
    totals: dict[datetime, int] = {}
    for lot in lots:
        if now < lot.expires_at <= until:
            totals[lot.expires_at] = totals.get(lot.expires_at, 0) + lot.points
    return [
        ExpiringLot(points, moment) for moment, points in sorted(totals.items(), key=lambda i: i[0])
    ]


@dataclass(frozen=True)
class HistoryPage:
    entries: list[LedgerEntry]
    has_next: bool


@dataclass(frozen=True)
class HistoryQuery:
    """One page of a member's history: newest first, optionally only some kinds."""

    first: int
    #: Entries with a lower ``seq`` than this one (a cursor); None for the newest.
    before_seq: int | None
    kinds: tuple[EntryKind, ...] | None


#: Each member's entries ranked newest first, so that one statement pages many members.
#: The optional cursor and kinds are NULL when not asked for: one statement text for all.
_HISTORY = text(
    "SELECT * FROM (SELECT e.*,"
    "  row_number() OVER (PARTITION BY e.member_id ORDER BY e.seq DESC) AS rank"
    "  FROM ledger_entries e WHERE e.member_id = ANY(CAST(:member_ids AS bigint[]))"
    "  AND (CAST(:before_seq AS bigint) IS NULL OR e.seq < :before_seq)"
    "  AND (CAST(:kinds AS text[]) IS NULL OR e.kind = ANY(:kinds))) AS ranked"
    " WHERE rank <= :per_member ORDER BY member_id, seq DESC"
)
_ENTRIES = text("SELECT * FROM ledger_entries WHERE id = ANY(CAST(:ids AS bigint[]))")


async def load_history(
    execute: Execute, keys: Sequence[tuple[int, HistoryQuery]]
) -> list[HistoryPage]:
    """Pages for many (member, query) pairs: one statement per distinct query, ranking each
    member's entries in a window, so a list of members never costs a query per member."""
    pages: dict[tuple[int, HistoryQuery], HistoryPage] = {}
    groups: dict[HistoryQuery, list[int]] = {}
    for member_id, query in keys:
        groups.setdefault(query, []).append(member_id)
    for query, member_ids in groups.items():
        rows = await execute(
            _HISTORY,
            {
                "member_ids": member_ids,
                "before_seq": query.before_seq,
                "kinds": [k.value for k in query.kinds] if query.kinds else None,
                # One more than the page: whether a next page exists.
                "per_member": query.first + 1,
            },
        )
        by_member: dict[int, list[Any]] = {m: [] for m in member_ids}
        for row in rows:
            by_member[row.member_id].append(row)
        for member_id in member_ids:
            found = by_member[member_id]
            pages[(member_id, query)] = HistoryPage(
                entries=[entry_from_row(r) for r in found[: query.first]],
                has_next=len(found) > query.first,
            )
    return [pages[key] for key in keys]


async def load_entries(execute: Execute, entry_ids: Sequence[int]) -> list[LedgerEntry | None]:
    rows = await execute(_ENTRIES, {"ids": list(entry_ids)})
    found = {row.id: entry_from_row(row) for row in rows}
    return [found.get(i) for i in entry_ids]

"""Tamper evidence: recompute every chain, balance and lot from the entries alone.

For each member, in chain order: ``seq`` runs 1, 2, 3 …; each ``prev_hash`` is the previous
entry's hash and each ``hash`` matches the entry's canonical encoding (``ledger.chain``);
each ``balance_after`` is the running sum of its bucket. Then the balances projection, the
account row (chain head, lifetime earned) and the lots must equal what the entries imply.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.chain import entry_hash
from ledger.lots import LotBook
from ledger.model import GENESIS_HASH, Bucket, EntryKind, lifetime_delta
from ledger.tables import ledger_entries, points_accounts, points_balances, points_lots


@dataclass(frozen=True)
class Break:
    member_id: int
    entry_id: int | None
    seq: int | None
    what: str

    def __str__(self) -> str:
        at = f", entry {self.entry_id} (seq {self.seq})" if self.entry_id is not None else ""
        return f"member {self.member_id}{at}: {self.what}"


@dataclass
class VerifyReport:
    members: int = 0
    entries: int = 0
    lots: int = 0
    broken_members: int = 0
    first_break: Break | None = None

    @property
    def ok(self) -> bool:
        return self.first_break is None

    def summary(self) -> str:
        counts = f"{self.members} members, {self.entries} entries, {self.lots} lots"
        if self.first_break is None:
            return f"ledger verify: OK: {counts} checked"
        return (
            f"ledger verify: BROKEN: {self.broken_members} member(s); first: {self.first_break}"
            f" ({counts} checked)"
        )


@dataclass
class _Member:
    member_id: int
    seq: int = 0
    head: bytes = GENESIS_HASH
    balances: dict[Bucket, int] = field(default_factory=lambda: dict.fromkeys(Bucket, 0))
    lifetime: int = 0
    book: LotBook = field(default_factory=LotBook)
    broken: Break | None = None


async def verify_ledger(*, session: AsyncSession, batch_size: int = 5_000) -> VerifyReport:
    """Check the whole ledger; read it in one transaction (REPEATABLE READ for a live hub)."""
    balances = await _balances(session)
    accounts = {row.member_id: row for row in await session.execute(select(points_accounts))}
    lots: dict[int, dict[int, Any]] = {}
    for row in await session.execute(select(points_lots)):
        lots.setdefault(row.member_id, {})[row.entry_id] = row
    report = VerifyReport(lots=sum(len(v) for v in lots.values()))
    seen: set[int] = set()
    current: _Member | None = None
    stream = await session.stream(
        select(ledger_entries)
        .order_by(ledger_entries.c.member_id, ledger_entries.c.seq)
        .execution_options(yield_per=batch_size)
    )
    async for row in stream:
        report.entries += 1
        if current is None or current.member_id != row.member_id:
            if current is not None:
                _finish(current, balances, accounts, lots, report)
            current = _Member(row.member_id)
            seen.add(row.member_id)
        if current.broken is None:
            current.broken = _apply(current, row)
    if current is not None:
        _finish(current, balances, accounts, lots, report)
    for member_id in sorted((set(balances) | set(accounts) | set(lots)) - seen):
        _finish(_Member(member_id), balances, accounts, lots, report)
    return report


def _apply(member: _Member, row: Any) -> Break | None:
    def broken(what: str) -> Break:
        return Break(member.member_id, row.id, row.seq, what)

    if row.seq != member.seq + 1:
        return broken(f"sequence jumps from {member.seq} to {row.seq}")
    if bytes(row.prev_hash) != member.head:
        return broken("prev_hash is not the previous entry's hash")
    digest = entry_hash(member.head, row)
    if bytes(row.hash) != digest:
        return broken("hash does not match the entry's contents")
    bucket, kind = Bucket(row.bucket), EntryKind(row.kind)
    expected = member.balances[bucket] + row.amount
    if row.balance_after != expected:
        return broken(f"balance_after is {row.balance_after}, the running sum is {expected}")
    problem = member.book.apply(
        entry_id=row.id,
        bucket=bucket,
        amount=row.amount,
        expires_at=row.expires_at,
        available_at=row.available_at,
        consumes_lot=row.consumes_lot,
    )
    if problem is not None:
        return broken(problem)
    member.seq, member.head = row.seq, digest
    member.balances[bucket] = expected
    member.lifetime += lifetime_delta(kind, bucket, row.amount)
    return None


def _finish(
    member: _Member,
    balances: dict[int, dict[Bucket, int]],
    accounts: dict[int, Any],
    lots: dict[int, dict[int, Any]],
    report: VerifyReport,
) -> None:
    report.members += 1
    problem = member.broken or _projection_break(member, balances, accounts, lots)
    if problem is not None:
        report.broken_members += 1
        if report.first_break is None:
            report.first_break = problem


def _projection_break(
    member: _Member,
    balances: dict[int, dict[Bucket, int]],
    accounts: dict[int, Any],
    lots: dict[int, dict[int, Any]],
) -> Break | None:
    def broken(what: str) -> Break:
        return Break(member.member_id, None, None, what)

    stored = balances.get(member.member_id, {})
    for bucket in Bucket:
        if stored.get(bucket, 0) != member.balances[bucket]:
            return broken(
                f"{bucket.value} balance is {stored.get(bucket, 0)}, the entries sum to"
                f" {member.balances[bucket]}"
            )
    account = accounts.get(member.member_id)
    if account is not None:
        if account.last_seq != member.seq or bytes(account.head_hash) != member.head:
            return broken("the account's chain head is not its last entry")
        if account.lifetime_earned != member.lifetime:
            return broken(
                f"lifetime earned is {account.lifetime_earned}, the entries give {member.lifetime}"
            )
    elif member.seq:
        return broken("entries without an account row")
    return _lots_break(member, lots.get(member.member_id, {}).values(), broken)


def _lots_break(member: _Member, stored: Iterable[Any], broken: Any) -> Break | None:
    expected = member.book.lots
    found = {row.entry_id: row for row in stored}
    for entry_id in sorted(set(expected) | set(found)):
        lot, row = expected.get(entry_id), found.get(entry_id)
        if lot is None or row is None:
            return broken(
                f"lot {entry_id} {'has no crediting entry' if lot is None else 'is missing'}"
            )
        if (row.amount, row.remaining, row.expires_at, row.available_at) != (
            lot.amount,
            lot.remaining,
            lot.expires_at,
            lot.available_at,
        ):
            return broken(
                f"lot {entry_id} holds {row.remaining} of {row.amount}, the entries give"
                f" {lot.remaining} of {lot.amount}"
            )
    return None


async def _balances(session: AsyncSession) -> dict[int, dict[Bucket, int]]:
    found: dict[int, dict[Bucket, int]] = {}
    for row in await session.execute(select(points_balances)):
        found.setdefault(row.member_id, {})[Bucket(row.bucket)] = row.balance
    return found

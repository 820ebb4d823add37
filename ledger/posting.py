"""The one posting path: every change of points, whatever its source, goes through here.

``post_entries`` runs in the caller's transaction and, in this order: validates the
requests, claims the idempotency key (a retry answers the first result), locks the
members' account rows (``FOR UPDATE``, in member order, so concurrent postings to one
member queue up), runs the registered checks, refuses what would overdraw, then appends
each entry with its running balance and chained hash, moves lots, updates the balances
projection and publishes ``points.credited`` / ``points.debited`` / ``points.expired``.
The CHECK constraints of the balances table are the last word on overdrafts.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select, text, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncSession

from bus.hooks import publish
from ledger.checks import ACCEPTED, CheckRegistry, Decision, FraudOutcome, Posting, checks
from ledger.entries import (
    Account,
    compose_entry,
    credit_lot,
    entry_event,
    insert_entries,
    insert_lots,
    save_accounts,
)
from ledger.errors import (
    InsufficientPoints,
    InvalidRequest,
    MemberNotActive,
    MemberNotFound,
    Refusal,
    refusal_from,
)
from ledger.idempotency import claim_key, record_outcome
from ledger.lots import OpenLot, plan_debit
from ledger.model import (
    DEBT_KINDS,
    Bucket,
    EntryRequest,
    IdempotencyKey,
    LedgerConfig,
    LedgerEntry,
)
from ledger.queries import entries_by_ids
from ledger.reviews import open_review
from ledger.tables import points_lots


@dataclass(frozen=True)
class PostingResult:
    entries: tuple[LedgerEntry, ...] = ()
    decision: Decision = ACCEPTED
    #: True when this answers a retry of an earlier request with the same key.
    replayed: bool = False
    #: A business refusal (insufficient points, a rule): nothing was posted.
    refusal: Refusal | None = None
    #: The fraud review opened for a HELD decision.
    review_id: int | None = None

    @property
    def entry(self) -> LedgerEntry | None:
        return self.entries[0] if self.entries else None


async def post_entries(
    *,
    session: AsyncSession,
    requests: Sequence[EntryRequest],
    now: datetime,
    config: LedgerConfig,
    operation: str,
    idempotency: IdempotencyKey | None = None,
    attributes: Mapping[str, Any] | None = None,
    require_active: bool = True,
    registry: CheckRegistry = checks,
) -> PostingResult:
    """Post ``requests`` as one operation (all or nothing) and answer what was posted.

    Raises InvalidRequest (bad requests), IdempotencyConflict, MemberNotFound and
    MemberNotActive (when ``require_active``): these write nothing and leave the key unused.
    Business refusals (INSUFFICIENT_POINTS, a rule's REJECTED) are answered in the result
    and recorded under the key.
    """
    validate_requests(requests)
    member_ids = sorted({r.member_id for r in requests})
    if idempotency is not None:
        stored = await claim_key(
            session, idempotency, member_id=member_ids[0], now=now, config=config
        )
        if stored is not None:
            return PostingResult(
                entries=await entries_by_ids(session, stored.entry_ids),
                decision=one_outcome(stored.decision, stored.refusal),
                replayed=True,
                refusal=stored.refusal,
            )
    await check_members(session, member_ids, require_active=require_active)
    accounts = await lock_accounts(session, member_ids)
    posting = Posting(
        operation=operation,
        entries=tuple(requests),
        now=now,
        config=config,
        attributes=attributes or {},
    )
    decision = await registry.decide(session, posting)
    refusal: Refusal | None = None
    if decision.rejection is not None:
        rejection = decision.rejection
        refusal = refusal_from(rejection.error_code, rejection.message or rejection.code)
    else:
        refusal = overdraft(accounts, requests)
        decision = one_outcome(decision, refusal)
    entries: tuple[LedgerEntry, ...] = ()
    if refusal is None:
        key = idempotency.key if idempotency is not None else None
        entries = tuple(
            [
                await _append(session, accounts[r.member_id], r, decision, now, config, key)
                for r in requests
            ]
        )
        await save_accounts(session, accounts.values())
    review_id = None
    if decision.outcome is FraudOutcome.HELD and entries:
        review_id = await open_review(
            session, operation=operation, reasons=decision.reasons, entries=entries, now=now
        )
    if idempotency is not None:
        await record_outcome(
            session,
            idempotency,
            entry_ids=tuple(e.id for e in entries),
            decision=decision,
            refusal=refusal,
        )
    return PostingResult(entries=entries, decision=decision, refusal=refusal, review_id=review_id)


def one_outcome(decision: Decision, refusal: Refusal | None) -> Decision:
    """What a posting answers: a refused one is REJECTED (its refusal's code the reason),
    whatever a rule would have done with it had it gone through."""
    if refusal is None or decision.outcome is FraudOutcome.REJECTED:
        return decision
    return Decision(FraudOutcome.REJECTED, reasons=(refusal.code,))


def validate_requests(requests: Sequence[EntryRequest]) -> None:
    if not requests:
        raise InvalidRequest("nothing to post")
    for r in requests:
        if not isinstance(r.amount, int) or r.amount == 0:
            raise InvalidRequest("points must be a non-zero whole number", field=("points",))
        if r.consumes_lot is not None and r.amount > 0:
            raise InvalidRequest("only a debit takes from a lot")
        if r.bucket is Bucket.PENDING and r.amount > 0 and r.available_at is None:
            raise InvalidRequest("pending points need the time they become available")
        if r.bucket is Bucket.HELD and (r.amount > 0 or r.held_for is None):
            raise InvalidRequest("the HELD bucket is debited only, naming what was held for")


async def check_members(
    session: AsyncSession, member_ids: list[int], *, require_active: bool
) -> None:
    # The members table is identity's; the ledger reads only existence and status.
    rows = await session.execute(
        text("SELECT id, status FROM members WHERE id = ANY(:ids)"), {"ids": member_ids}
    )
    status = {row.id: row.status for row in rows}
    for member_id in member_ids:
        if member_id not in status:
            raise MemberNotFound(f"no member {member_id}", field=("memberId",))
        if require_active and status[member_id] != "ACTIVE":
            raise MemberNotActive(
                f"member {member_id} is {status[member_id].lower()}", field=("memberId",)
            )


#: The account and its three balances in one statement (one round trip per enrolment).
_OPEN_ACCOUNTS = text(
    "WITH accounts AS (INSERT INTO points_accounts (member_id)"
    "  SELECT unnest(CAST(:ids AS bigint[])) ON CONFLICT DO NOTHING)"
    " INSERT INTO points_balances (member_id, bucket)"
    " SELECT m, b FROM unnest(CAST(:ids AS bigint[])) AS m,"
    " unnest(ARRAY['PENDING', 'AVAILABLE', 'HELD']) AS b ON CONFLICT DO NOTHING"
)


async def open_accounts(session: AsyncSession | AsyncConnection, member_ids: Sequence[int]) -> None:
    """Give each member an empty account and balances unless it has them.

    Members get theirs when they enrol (``ledger.subscriptions``). An account that a
    posting opens stays uncommitted until that posting ends, and any other transaction
    opening it meanwhile waits for it, ``skip_busy`` or not. Postings still open the
    accounts of members written by other means.
    """
    await session.execute(_OPEN_ACCOUNTS, {"ids": sorted(set(member_ids))})


async def lock_members(
    session: AsyncSession, member_ids: Sequence[int], *, skip_busy: bool = False
) -> dict[int, Account]:
    """Lock the members' accounts for this transaction, for work that must read lots or
    balances before it composes the entries it posts (expiry, settlement, merges, a batch
    of purchases); answers the accounts as locked (see ``lock_accounts`` for ``skip_busy``)."""
    return await lock_accounts(session, sorted(set(member_ids)), skip_busy=skip_busy)


async def lock_accounts(
    session: AsyncSession, member_ids: list[int], *, skip_busy: bool = False
) -> dict[int, Account]:
    """Lock (creating when new) each member's account row, in member order.

    With ``skip_busy`` an account that another transaction holds is left out of the answer
    instead of waited for: a batch records the others' purchases at once.
    """
    accounts = await _select_accounts(session, member_ids, skip_busy=skip_busy)
    missing = [m for m in member_ids if m not in accounts]
    if missing and skip_busy:
        busy = set(await session.scalars(_EXISTING_ACCOUNTS, {"ids": missing}))
        missing = [m for m in missing if m not in busy]
        member_ids = [m for m in member_ids if m not in busy]
    if missing:
        await open_accounts(session, missing)
        accounts.update(await _select_accounts(session, missing, skip_busy=False))
    if not member_ids:
        return accounts
    rows = await session.execute(_BALANCES_OF, {"ids": member_ids})
    for row in rows:
        accounts[row.member_id].balances[Bucket(row.bucket)] = row.balance
    return accounts


# One statement text whatever the number of members, so it is prepared once per connection.
_ACCOUNTS = (
    "SELECT member_id, last_seq, head_hash, lifetime_earned FROM points_accounts"
    " WHERE member_id = ANY(CAST(:ids AS bigint[])) ORDER BY member_id FOR UPDATE"
)
_LOCK_ACCOUNTS = text(_ACCOUNTS)
_LOCK_FREE_ACCOUNTS = text(_ACCOUNTS + " SKIP LOCKED")
_EXISTING_ACCOUNTS = text(
    "SELECT member_id FROM points_accounts WHERE member_id = ANY(CAST(:ids AS bigint[]))"
)
_BALANCES_OF = text(
    "SELECT member_id, bucket, balance FROM points_balances"
    " WHERE member_id = ANY(CAST(:ids AS bigint[]))"
)


async def _select_accounts(
    session: AsyncSession, member_ids: list[int], *, skip_busy: bool
) -> dict[int, Account]:
    rows = await session.execute(
        _LOCK_FREE_ACCOUNTS if skip_busy else _LOCK_ACCOUNTS, {"ids": member_ids}
    )
    return {
        row.member_id: Account(
            member_id=row.member_id,
            last_seq=row.last_seq,
            head_hash=bytes(row.head_hash),
            lifetime_earned=row.lifetime_earned,
        )
        for row in rows
    }


def overdraft(accounts: Mapping[int, Account], requests: Sequence[EntryRequest]) -> Refusal | None:
    """INSUFFICIENT_POINTS when a debit would take a bucket below zero (debt kinds aside)."""
    running = {(m, b): bal for m, a in accounts.items() for b, bal in a.balances.items()}
    for r in requests:
        slot = (r.member_id, r.bucket)
        before = running.get(slot, 0)
        running[slot] = before + r.amount
        if r.amount < 0 and running[slot] < 0 and r.kind not in DEBT_KINDS:
            return InsufficientPoints(
                f"{-r.amount} points asked, {max(before, 0)} {r.bucket.value.lower()}",
                field=("points",),
            )
    return None


#: Built once: each posting sends it, and building it per call cost more than its round trip.
_SET_BALANCE = text(
    "UPDATE points_balances SET balance = :balance, last_kind = :last_kind,"
    " last_amount = :last_amount WHERE member_id = :member_id AND bucket = :bucket"
)


async def _append(
    session: AsyncSession,
    account: Account,
    request: EntryRequest,
    decision: Decision,
    now: datetime,
    config: LedgerConfig,
    idempotency_key: str | None,
) -> LedgerEntry:
    values, before = compose_entry(account, request, decision, now, config, idempotency_key)
    (entry,) = await insert_entries(session, [values])
    if entry.bucket is not Bucket.HELD:
        await _move_lots(session, entry, before)
    await session.execute(
        _SET_BALANCE,
        {
            "member_id": entry.member_id,
            "bucket": entry.bucket.value,
            "balance": entry.balance_after,
            "last_kind": entry.kind.value,
            "last_amount": entry.amount,
        },
    )
    await publish(session, entry_event(entry))
    return entry


async def _move_lots(session: AsyncSession, entry: LedgerEntry, balance_before: int) -> None:
    if entry.amount > 0:
        lot = credit_lot(entry, balance_before)
        if lot is not None:
            await insert_lots(session, [lot])
        return
    lots = points_lots.c
    query = select(points_lots).where(lots.member_id == entry.member_id)
    if entry.consumes_lot is not None:
        query = query.where(lots.entry_id == entry.consumes_lot)
    else:
        query = query.where(lots.bucket == entry.bucket.value, lots.remaining > 0)
    open_lots = [
        OpenLot(
            entry_id=row.entry_id,
            bucket=Bucket(row.bucket),
            amount=row.amount,
            remaining=row.remaining,
            expires_at=row.expires_at,
            available_at=row.available_at,
        )
        for row in await session.execute(query)
    ]
    takes, shortfall = plan_debit(open_lots, -entry.amount, consumes_lot=entry.consumes_lot)
    if entry.consumes_lot is not None and shortfall:
        raise InvalidRequest(f"lot {entry.consumes_lot} holds less than {-entry.amount} points")
    if takes:
        await session.execute(
            update(points_lots)
            .where(lots.member_id == bindparam("m"), lots.entry_id == bindparam("e"))
            .values(remaining=lots.remaining - bindparam("take")),
            [{"m": entry.member_id, "e": lot.entry_id, "take": take} for lot, take in takes],
        )

"""Posting a batch of operations at once: an offline till's purchases, say.

``post_batch`` answers exactly what ``post_entries`` would answer for each operation posted
one after another in the caller's transaction, but with a fixed number of statements for
the whole batch: one lock of every account, one query per check (its batch form), one
multi-row INSERT each for the entries and the lots, one statement updating the balances
and the accounts, one INSERT for the events. Credits only: a debit plans its lots one by one.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import publish_many
from ledger.checks import CheckRegistry, FraudOutcome, Posting, checks
from ledger.entries import (
    Account,
    compose_entry,
    credit_lot,
    entry_event,
    insert_entries,
    insert_lots,
    save_accounts_and_balances,
)
from ledger.errors import InvalidRequest, refusal_from
from ledger.model import Bucket, EntryRequest, LedgerConfig, LedgerEntry
from ledger.posting import (
    PostingResult,
    check_members,
    lock_accounts,
    validate_requests,
)
from ledger.reviews import HeldCase, open_reviews


@dataclass(frozen=True)
class BatchOperation:
    #: The credits of one operation; none for one that posts nothing but that the checks of
    #: later operations must see (a purchase that earns no points).
    requests: tuple[EntryRequest, ...]
    attributes: Mapping[str, Any] = field(default_factory=dict)


async def post_batch(
    *,
    session: AsyncSession,
    operations: Sequence[BatchOperation],
    now: datetime,
    config: LedgerConfig,
    operation: str,
    locked: Mapping[int, Account] | None = None,
    registry: CheckRegistry = checks,
) -> list[PostingResult] | None:
    """One result per operation, in order; None when the checks cannot judge the batch as
    a whole (see ``CheckRegistry.decide_many``) and the caller must post one by one.

    ``locked`` are the accounts as ``lock_members`` answered them earlier in the
    transaction, when the caller took the locks itself. Raises InvalidRequest,
    MemberNotFound and MemberNotActive before writing anything.
    """
    for op in operations:
        if op.requests:
            validate_requests(op.requests)
        if any(r.amount < 0 for r in op.requests):
            raise InvalidRequest("a batch posts credits only")
    member_ids = sorted({r.member_id for op in operations for r in op.requests})
    if not member_ids:
        return [PostingResult() for _ in operations]
    await check_members(session, member_ids, require_active=True)
    if locked is not None and locked.keys() >= set(member_ids):
        accounts = {m: locked[m] for m in member_ids}
    else:
        accounts = await lock_accounts(session, member_ids)
    postings = [
        Posting(
            operation=operation,
            entries=op.requests,
            now=now,
            config=config,
            attributes=op.attributes,
        )
        for op in operations
    ]
    decisions = await registry.decide_many(session, operation, postings)
    if decisions is None:
        return None
    rows: list[dict[str, Any]] = []
    balances_before: list[int] = []
    owners: list[int] = []
    results: list[PostingResult] = []
    for n, (op, decision) in enumerate(zip(operations, decisions, strict=True)):
        # Credits never overdraw: a rule's rejection is the only refusal.
        refusal = None
        if decision.rejection is not None:
            rejection = decision.rejection
            refusal = refusal_from(rejection.error_code, rejection.message or rejection.code)
        results.append(PostingResult(decision=decision, refusal=refusal))
        if refusal is not None:
            continue
        for request in op.requests:
            values, before = compose_entry(
                accounts[request.member_id], request, decision, now, config, None
            )
            rows.append(values)
            balances_before.append(before)
            owners.append(n)
    if not rows:
        return results
    entries = await insert_entries(session, rows)
    lots = [
        lot
        for entry, before in zip(entries, balances_before, strict=True)
        if entry.bucket is not Bucket.HELD and (lot := credit_lot(entry, before)) is not None
    ]
    if lots:
        await insert_lots(session, lots)
    await save_accounts_and_balances(session, (accounts[m] for m in member_ids), entries)
    await publish_many(session, [entry_event(e) for e in entries])
    by_operation: dict[int, list[LedgerEntry]] = {}
    for owner, entry in zip(owners, entries, strict=True):
        by_operation.setdefault(owner, []).append(entry)
    held = [n for n in by_operation if results[n].decision.outcome is FraudOutcome.HELD]
    review_ids = (
        await open_reviews(
            session,
            [
                HeldCase(operation, results[n].decision.reasons, tuple(by_operation[n]))
                for n in held
            ],
            now=now,
        )
        if held
        else []
    )
    reviews = dict(zip(held, review_ids, strict=True))
    for n, posted in by_operation.items():
        results[n] = PostingResult(
            entries=tuple(posted), decision=results[n].decision, review_id=reviews.get(n)
        )
    return results

"""Recording purchases from every channel: one purchase or five hundred, through one path.

A purchase is recorded as part of a run (``sync.purchases.runs``): find (or enrol) the
buyers, store the purchases and their items, price each by the earning rules at its buyer's
tier of that moment, post the points through the ledger (where the anti-fraud checks run),
upgrade tiers whose spend now qualifies, and write ``purchase.recorded``. (storeId,
receiptNo) is the idempotency key across channels: the same receipt with the same content
answers the first result; with other content it is DUPLICATE_RECEIPT and nothing is
written.

``record_purchases`` owns the batching policy. It answers each purchase as recording it
alone would, in input order, and one bad purchase never loses the others: the batch is cut
into runs (``plan_runs``), each recorded in one transaction; the purchases of buyers that a
concurrent transaction holds follow in a second one. A run the checks cannot judge as a
whole, or that faults, is recorded a purchase per transaction instead.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from identity.errors import IdentityError
from ledger.benefits.errors import BenefitsError
from ledger.errors import LedgerError
from sync.purchases.requests import IngestConfig, PurchaseError, PurchaseOutcome, PurchaseRequest
from sync.purchases.runs import RunNotJudgeable, plan_runs, record_purchase_run

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Runs ``work`` in one transaction, committed, retried when it loses a race.
Transact = Callable[[Callable[[AsyncSession], Awaitable[T]]], Awaitable[T]]
#: The errors a purchase is answered with (the caller's user errors); any other fails.
DOMAIN_ERRORS = (PurchaseError, IdentityError, LedgerError, BenefitsError)
#: What a purchase is answered: its outcome, or why it was refused.
Answer = PurchaseOutcome | PurchaseError | IdentityError | LedgerError | BenefitsError


async def record_purchases(
    transact: Transact,
    requests: Sequence[PurchaseRequest],
    *,
    may_enrol: bool,
    actor: str,
    now: datetime,
    config: IngestConfig,
) -> list[Answer]:
    """Record ``requests`` (see the module's docstring); one answer per request, in order.
    ``may_enrol``: a buyer named by identities nobody holds is enrolled (else it is
    MEMBER_NOT_FOUND)."""
    answers: list[Answer | None] = [None] * len(requests)

    async def run_of(positions: list[int], *, skip_busy: bool) -> list[Answer | None]:
        run = [requests[n] for n in positions]
        return await transact(
            lambda session: record_purchase_run(
                session,
                run,
                now=now,
                config=config,
                may_enrol=may_enrol,
                actor=actor,
                skip_busy_members=skip_busy,
            )
        )

    for group in plan_runs(requests, now=now):
        left = group
        # First the buyers no other transaction holds, then the rest, waiting for theirs.
        for skip_busy in (True, False):
            if len(left) < 2:
                break
            try:
                recorded = await run_of(left, skip_busy=skip_busy)
            except RunNotJudgeable:
                break
            except Exception:
                # One purchase may have tripped a fault: one by one, it fails alone.
                log.warning(
                    "a run of %d purchases failed; recording them one by one",
                    len(left),
                    exc_info=True,
                )
                break
            for n, answer in zip(left, recorded, strict=True):
                answers[n] = answer
            left = [n for n in left if answers[n] is None]
        for n in left:
            try:
                answers[n] = (await run_of([n], skip_busy=False))[0]
            except DOMAIN_ERRORS as error:
                answers[n] = error
    assert all(a is not None for a in answers), "every purchase is answered"
    return [a for a in answers if a is not None]


async def record_purchase(
    session: AsyncSession,
    request: PurchaseRequest,
    *,
    may_enrol: bool,
    actor: str,
    now: datetime,
    config: IngestConfig,
) -> PurchaseOutcome:
    """Record one purchase in the caller's transaction (a job replaying history, say).

    Raises InvalidPurchase, DuplicateReceipt, identity errors (unknown member, conflict)
    before writing anything.
    """
    answer = (
        await record_purchase_run(
            session, [request], now=now, config=config, may_enrol=may_enrol, actor=actor
        )
    )[0]
    if isinstance(answer, Exception):
        raise answer
    assert answer is not None
    return answer

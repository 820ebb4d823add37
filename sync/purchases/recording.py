"""Recording purchases: one purchase or five hundred, through one call.

``record_purchases`` owns the batching policy. It answers each purchase as recording it
alone would, in input order, and one bad purchase never loses the others: runs of purchases
bought by a member ID are recorded a run per transaction (``sync.purchases.runs``; the
purchases of buyers that a concurrent transaction holds follow in a second one), the rest
(a buyer named by identities, a receipt repeated in the batch, a purchase dated now or
later) one per transaction (``sync.purchases.one_purchase``).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from identity.errors import IdentityError
from ledger.errors import LedgerError
from sync.purchases.one_purchase import record_purchase
from sync.purchases.requests import IngestConfig, PurchaseError, PurchaseOutcome, PurchaseRequest
from sync.purchases.runs import RunNotJudgeable, plan_runs, record_purchase_run

log = logging.getLogger(__name__)

T = TypeVar("T")
#: Runs ``work`` in one transaction, committed, retried when it loses a race.
Transact = Callable[[Callable[[AsyncSession], Awaitable[T]]], Awaitable[T]]
#: The errors a purchase is answered with (the caller's user errors); any other fails.
DOMAIN_ERRORS = (PurchaseError, IdentityError, LedgerError)
#: What a purchase is answered: its outcome, or why it was refused.
Answer = PurchaseOutcome | PurchaseError | IdentityError | LedgerError


async def record_purchases(
    transact: Transact,
    requests: Sequence[PurchaseRequest],
    *,
    may_enrol: bool,
    actor: str,
    now: datetime,
    config: IngestConfig,
) -> list[Answer]:
    """Record ``requests`` (see the module's docstring); one answer per request, in order."""
    answers: list[Answer | None] = [None] * len(requests)
    for group in plan_runs(requests, now=now):
        if len(group) > 1:
            recorded = await _record_run(
                transact, [requests[n] for n in group], now=now, config=config
            )
            for n, answer in zip(group, recorded, strict=True):
                answers[n] = answer
        for n in group:
            if answers[n] is None:
                answers[n] = await _record_one(
                    transact, requests[n], may_enrol=may_enrol, actor=actor, now=now, config=config
                )
    assert all(a is not None for a in answers), "every purchase is answered"
    return [a for a in answers if a is not None]


async def _record_one(
    transact: Transact,
    request: PurchaseRequest,
    *,
    may_enrol: bool,
    actor: str,
    now: datetime,
    config: IngestConfig,
) -> Answer:
    try:
        return await transact(
            lambda session: record_purchase(
                session, request, may_enrol=may_enrol, actor=actor, now=now, config=config
            )
        )
    except DOMAIN_ERRORS as error:
        return error


async def _record_run(
    transact: Transact,
    requests: list[PurchaseRequest],
    *,
    now: datetime,
    config: IngestConfig,
) -> list[Answer | None]:
    """The run recorded a transaction at a time: first the purchases of buyers that no
    other transaction holds, then the rest, waiting for theirs. None for a purchase that
    must go one by one instead."""
    answers: list[Answer | None] = [None] * len(requests)
    left = list(range(len(requests)))
    for skip_busy in (True, False):
        if len(left) < 2:
            break
        run = [requests[n] for n in left]
        try:
            recorded = await transact(
                lambda session, run=run, skip_busy=skip_busy: record_purchase_run(
                    session, run, now=now, config=config, skip_busy_members=skip_busy
                )
            )
        except RunNotJudgeable:
            break
        except Exception:
            # One purchase may have tripped a fault: one by one, it fails alone.
            log.warning(
                "a run of %d purchases failed; recording them one by one", len(run), exc_info=True
            )
            break
        for n, answer in zip(left, recorded, strict=True):
            if answer is not None:
                answers[n] = answer
        left = [n for n, answer in zip(left, recorded, strict=True) if answer is None]
    return answers

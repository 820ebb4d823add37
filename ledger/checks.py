"""The check registry: the anti-fraud rules every posting runs through, whatever its channel.

A check is an async function ``check(session, posting) -> CheckResult | None`` registered
under a stable code (``DUPLICATE_RECEIPT``, ``CHECKIN_DAILY`` …) for the operations it
judges. The posting path runs the checks of its operation after locking the members, so a
check sees every earlier posting of those members committed. None means the rule does not
fire. The strictest outcome wins: REJECTED over HELD over ACCEPTED.

- REJECTED: nothing is posted; the refusal (``error_code``, REJECTED_BY_RULE unless the rule
  names another) is recorded under the idempotency key and replayed.
- HELD: credits are posted to the HELD bucket (``held_for`` names where they were going,
  ``hold_reasons`` the rules); debits are posted as asked, so held points cannot be spent
  twice. Releasing or cancelling a hold is done by appending entries.

A check may also have a batch form, ``check_many(session, postings)``, that judges many
postings of one operation at once, each as if the ones before it in the batch had been
posted (one query for the history instead of one per posting). A posting with no entries
in a batch (a purchase that earns nothing) is not judged but is seen by the later ones.
"""

from __future__ import annotations

import enum
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.model import EntryRequest, LedgerConfig


class FraudOutcome(enum.StrEnum):
    ACCEPTED = "ACCEPTED"
    HELD = "HELD"
    REJECTED = "REJECTED"


_STRICTNESS = {FraudOutcome.ACCEPTED: 0, FraudOutcome.HELD: 1, FraudOutcome.REJECTED: 2}


@dataclass(frozen=True)
class CheckResult:
    outcome: FraudOutcome
    code: str
    message: str = ""
    #: The user error a REJECTED outcome answers with.
    error_code: str = "REJECTED_BY_RULE"


@dataclass(frozen=True)
class Decision:
    outcome: FraudOutcome
    #: Codes of the rules that fired (HELD or REJECTED), in registration order.
    reasons: tuple[str, ...] = ()
    #: The strictest rule that rejected, when the outcome is REJECTED.
    rejection: CheckResult | None = None


ACCEPTED = Decision(FraudOutcome.ACCEPTED)


@dataclass(frozen=True, kw_only=True)
class Posting:
    """What a check judges: one operation of one caller and the entries it would post."""

    operation: str
    entries: tuple[EntryRequest, ...]
    now: datetime
    config: LedgerConfig
    #: Facts of the operation beyond its entries (a receipt, a cashier, a business day).
    attributes: Mapping[str, Any] = field(default_factory=dict)


Check = Callable[[AsyncSession, Posting], Awaitable[CheckResult | None]]
BatchCheck = Callable[[AsyncSession, Sequence[Posting]], Awaitable[Sequence[CheckResult | None]]]


@dataclass(frozen=True)
class _Registered:
    code: str
    check: Check
    operations: frozenset[str] | None
    check_many: BatchCheck | None = None

    def judges(self, operation: str) -> bool:
        return self.operations is None or operation in self.operations


class CheckRegistry:
    def __init__(self) -> None:
        self._checks: dict[str, _Registered] = {}

    def register(
        self,
        code: str,
        check: Check,
        *,
        operations: Sequence[str] | None = None,
        check_many: BatchCheck | None = None,
    ) -> None:
        """Register (or replace) the check named ``code``; ``operations`` limits which
        postings it judges (all when None); ``check_many`` is its batch form."""
        self._checks[code] = _Registered(
            code, check, frozenset(operations) if operations is not None else None, check_many
        )

    def unregister(self, code: str) -> None:
        self._checks.pop(code, None)

    def codes(self) -> tuple[str, ...]:
        return tuple(self._checks)

    async def decide(self, session: AsyncSession, posting: Posting) -> Decision:
        results: list[CheckResult] = []
        for registered in self._checks.values():
            if not registered.judges(posting.operation):
                continue
            result = await registered.check(session, posting)
            if result is not None and result.outcome is not FraudOutcome.ACCEPTED:
                results.append(result)
        return strictest(results)

    async def decide_many(
        self, session: AsyncSession, operation: str, postings: Sequence[Posting]
    ) -> list[Decision] | None:
        """The decisions for ``postings`` of ``operation``, judged in order as ``decide``
        would judge them one after another; a posting with no entries is ACCEPTED unjudged.

        None (for two postings or more) when a check of the operation has no batch form, or
        when a posting before the last is REJECTED: nothing of it would be posted, which the
        batch forms cannot see, so the caller posts one by one instead."""
        if len(postings) == 1:
            # Alone, a posting is judged by every check's single form, batch form or not.
            posting = postings[0]
            return [await self.decide(session, posting) if posting.entries else ACCEPTED]
        applicable = [r for r in self._checks.values() if r.judges(operation)]
        if any(r.check_many is None for r in applicable):
            return None
        results: list[list[CheckResult]] = [[] for _ in postings]
        for registered in applicable:
            assert registered.check_many is not None
            answers = await registered.check_many(session, postings)
            for found, posting, result in zip(results, postings, answers, strict=True):
                if (
                    posting.entries
                    and result is not None
                    and result.outcome is not FraudOutcome.ACCEPTED
                ):
                    found.append(result)
        decisions = [strictest(found) for found in results]
        if any(d.outcome is FraudOutcome.REJECTED for d in decisions[:-1]):
            return None
        return decisions


def strictest(results: Sequence[CheckResult]) -> Decision:
    if not results:
        return ACCEPTED
    worst = max(results, key=lambda r: _STRICTNESS[r.outcome])
    return Decision(
        outcome=worst.outcome,
        reasons=tuple(dict.fromkeys(r.code for r in results)),
        rejection=worst if worst.outcome is FraudOutcome.REJECTED else None,
    )


#: The process-wide registry the posting path consults.
checks = CheckRegistry()

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


@dataclass(frozen=True)
class _Registered:
    code: str
    check: Check
    operations: frozenset[str] | None


class CheckRegistry:
    def __init__(self) -> None:
        self._checks: dict[str, _Registered] = {}

    def register(self, code: str, check: Check, *, operations: Sequence[str] | None = None) -> None:
        """Register (or replace) the check named ``code``; ``operations`` limits which
        postings it judges (all when None)."""
        self._checks[code] = _Registered(
            code, check, frozenset(operations) if operations is not None else None
        )

    def codes(self) -> tuple[str, ...]:
        return tuple(self._checks)

    async def decide(self, session: AsyncSession, posting: Posting) -> Decision:
        results: list[CheckResult] = []
        for registered in self._checks.values():
            if registered.operations is not None and posting.operation not in registered.operations:
                continue
            result = await registered.check(session, posting)
            if result is not None and result.outcome is not FraudOutcome.ACCEPTED:
                results.append(result)
        return strictest(results)


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

"""The ledger's errors: each has a stable ``code`` (a name of the API's ErrorCode enum)."""

from __future__ import annotations

from collections.abc import Sequence


class LedgerError(Exception):
    code = "INVALID_INPUT"

    def __init__(self, message: str, *, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.field = tuple(field) if field is not None else None


class InvalidRequest(LedgerError):
    code = "INVALID_INPUT"


class MemberNotFound(LedgerError):
    code = "NOT_FOUND"


class MemberNotActive(LedgerError):
    code = "MEMBER_NOT_ACTIVE"


class IdempotencyConflict(LedgerError):
    """The key was used before for a different request; nothing was written."""

    code = "IDEMPOTENCY_CONFLICT"


class Refusal(LedgerError):
    """A business refusal: recorded under the request's idempotency key and replayed as such."""


class InsufficientPoints(Refusal):
    code = "INSUFFICIENT_POINTS"


class AlreadyCheckedIn(Refusal):
    code = "ALREADY_CHECKED_IN"


class RejectedByRule(Refusal):
    code = "REJECTED_BY_RULE"


REFUSALS: dict[str, type[Refusal]] = {
    cls.code: cls for cls in (InsufficientPoints, AlreadyCheckedIn, RejectedByRule)
}


def refusal_from(code: str, message: str, field: Sequence[str] | None = None) -> Refusal:
    """Rebuild a stored refusal for a replay."""
    return REFUSALS.get(code, RejectedByRule)(message, field=field)

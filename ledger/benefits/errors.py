"""Errors of benefits, each with a stable ``code`` (a name of the API's ErrorCode enum)."""

from __future__ import annotations

from collections.abc import Sequence


class BenefitsError(Exception):
    code = "INVALID_INPUT"

    def __init__(self, message: str, *, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.field = tuple(field) if field is not None else None


class InvalidBenefit(BenefitsError):
    code = "INVALID_INPUT"


class NotFound(BenefitsError):
    code = "NOT_FOUND"


class OutOfStock(BenefitsError):
    code = "OUT_OF_STOCK"


class LimitExceeded(BenefitsError):
    """The member already holds as many live coupons of the template as it allows."""

    code = "LIMIT_EXCEEDED"


class IdempotencyConflict(BenefitsError):
    code = "IDEMPOTENCY_CONFLICT"


class Refused(BenefitsError):
    """A refusal the ledger answered (INSUFFICIENT_POINTS, a rule); nothing was written."""

    def __init__(self, code: str, message: str, *, field: Sequence[str] | None = None) -> None:
        super().__init__(message, field=field)
        self.code = code

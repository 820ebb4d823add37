"""User errors: the one place where domain exceptions become stable error codes."""

from __future__ import annotations

import enum
from collections.abc import Sequence

import strawberry

from hub.ids import InvalidGlobalId


@strawberry.enum
class ErrorCode(enum.Enum):
    INVALID_INPUT = "INVALID_INPUT"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    INSUFFICIENT_POINTS = "INSUFFICIENT_POINTS"
    DUPLICATE_RECEIPT = "DUPLICATE_RECEIPT"
    IDEMPOTENCY_CONFLICT = "IDEMPOTENCY_CONFLICT"
    IDENTITY_CONFLICT = "IDENTITY_CONFLICT"
    ALREADY_CHECKED_IN = "ALREADY_CHECKED_IN"
    REJECTED_BY_RULE = "REJECTED_BY_RULE"
    MEMBER_NOT_ACTIVE = "MEMBER_NOT_ACTIVE"
    LIMIT_EXCEEDED = "LIMIT_EXCEEDED"
    OUT_OF_STOCK = "OUT_OF_STOCK"


@strawberry.type
class UserError:
    code: ErrorCode
    message: str
    field: list[str] | None = strawberry.field(
        default=None,
        description='Path of the input field at fault, e.g. ["input", "amount"].',
    )


def user_error(
    code: ErrorCode | str, message: str, field: Sequence[str] | None = None
) -> UserError:
    return UserError(
        code=code if isinstance(code, ErrorCode) else ErrorCode[code],
        message=message,
        field=list(field) if field is not None else None,
    )


class DomainErrorLike:
    """What every domain error hierarchy offers: a stable ``code`` and an optional field."""

    code: str
    field: Sequence[str] | None


def to_user_error(error: Exception, *, field_prefix: Sequence[str] = ()) -> UserError:
    """Map a domain exception (anything with a ``code`` attribute) or a bad ID to a user error.

    ``field_prefix`` places a domain field path under the argument it came from, e.g.
    ``("input",)``.
    """
    if isinstance(error, InvalidGlobalId):
        return user_error(ErrorCode.INVALID_INPUT, str(error), field_prefix or None)
    code = getattr(error, "code", None)
    if code is None or code not in ErrorCode.__members__:
        raise error
    field = getattr(error, "field", None)
    path = [*field_prefix, *field] if field is not None else (list(field_prefix) or None)
    return user_error(code, str(error), path)

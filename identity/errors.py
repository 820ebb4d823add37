"""Identity errors: one hierarchy, each with a stable ``code`` of the API's ErrorCode enum."""

from __future__ import annotations

from collections.abc import Sequence


class IdentityError(Exception):
    """Base of every identity error a caller can act on."""

    code = "INVALID_INPUT"

    def __init__(self, message: str, *, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.field: tuple[str, ...] | None = tuple(field) if field is not None else None

    def under(self, *prefix: str) -> IdentityError:
        """The same error with its field placed under ``prefix`` (an argument, a list index)."""
        return type(self)(str(self), field=(*prefix, *(self.field or ())))


class InvalidIdentity(IdentityError):
    """A value, namespace or other input that cannot be used as given."""


class MemberNotFound(IdentityError):
    code = "NOT_FOUND"


class MemberNotActive(IdentityError):
    """The member was merged away or erased and cannot be changed."""

    code = "MEMBER_NOT_ACTIVE"


class IdentityConflict(IdentityError):
    """The change would put an identity on two members or break a merge rule."""

    code = "IDENTITY_CONFLICT"


class ConcurrentIdentityChange(Exception):
    """Another transaction changed the same identities first; the whole transaction is
    retried (``retryable``), which re-reads everything."""

    retryable = True

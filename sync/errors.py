"""Errors of the sync package, each with a stable ``code`` (a contract ErrorCode name)."""

from __future__ import annotations

from collections.abc import Sequence


class SyncError(Exception):
    code = "INVALID_INPUT"

    def __init__(self, message: str, *, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.field = tuple(field) if field is not None else None


class InvalidWebhook(SyncError):
    """A URL that is not http(s), or an event type the client may not subscribe to."""

    code = "INVALID_INPUT"


class WebhookNotFound(SyncError):
    """No such webhook, or one the caller does not own."""

    code = "NOT_FOUND"

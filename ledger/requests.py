"""Checks of client-supplied values shared by the ledger's client operations."""

from __future__ import annotations

from typing import Any

from ledger.errors import InvalidRequest
from ledger.model import IdempotencyKey

MAX_KEY_LENGTH = 200
MAX_TEXT_LENGTH = 500


def idempotency_key(scope: str, key: str, request: dict[str, Any]) -> IdempotencyKey:
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidRequest(
            f"the idempotency key must have 1 to {MAX_KEY_LENGTH} characters",
            field=("idempotencyKey",),
        )
    return IdempotencyKey(scope=scope, key=key, request=request)


def required_text(value: str, name: str) -> str:
    stripped = value.strip()
    if not stripped:
        raise InvalidRequest(f"{name} is required", field=(name,))
    if len(stripped) > MAX_TEXT_LENGTH:
        raise InvalidRequest(f"{name} is longer than {MAX_TEXT_LENGTH} characters", field=(name,))
    return stripped

"""Idempotency of benefit requests (issueCoupons, exchangeReward): a retry with the same
key answers the first outcome and writes nothing; the same key for another request is
IDEMPOTENCY_CONFLICT.

The key row is claimed with ``INSERT … ON CONFLICT DO NOTHING`` in the request's own
transaction: a concurrent retry waits on the uncommitted row, then reads the outcome. A
request refused or failed rolls its claim back with everything else, so the key stays
unused and a later retry is decided afresh.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.benefits.errors import IdempotencyConflict, InvalidBenefit
from ledger.idempotency import fingerprint

MAX_KEY_LENGTH = 200


@dataclass(frozen=True)
class StoredOutcome:
    issued: int
    skipped: int
    coupon_id: int | None
    points_spent: int | None


def checked_key(key: str) -> str:
    if not key.strip() or len(key) > MAX_KEY_LENGTH:
        raise InvalidBenefit(
            f"the idempotency key must have 1 to {MAX_KEY_LENGTH} characters",
            field=("idempotencyKey",),
        )
    return key


async def claim_request(
    session: AsyncSession,
    *,
    scope: str,
    key: str,
    operation: str,
    template_id: int,
    request: dict[str, Any],
    now: datetime,
) -> StoredOutcome | None:
    """None when the key is this request's now; else the outcome it answered first."""
    digest = fingerprint({"operation": operation, "template": template_id, **request})
    claimed = await session.execute(
        text(
            "INSERT INTO coupon_requests (scope, key, fingerprint, operation, template_id,"
            " created_at) VALUES (:scope, :key, :digest, :operation, :template, :now)"
            " ON CONFLICT (scope, key) DO NOTHING RETURNING key"
        ),
        {
            "scope": scope,
            "key": checked_key(key),
            "digest": digest,
            "operation": operation,
            "template": template_id,
            "now": now,
        },
    )
    if claimed.first() is not None:
        return None
    row = (
        await session.execute(
            text(
                "SELECT fingerprint, issued, skipped, coupon_id, points_spent"
                " FROM coupon_requests WHERE scope = :scope AND key = :key"
            ),
            {"scope": scope, "key": key},
        )
    ).one()
    if bytes(row.fingerprint) != digest or row.issued is None:
        raise IdempotencyConflict(
            f"the idempotency key {key!r} was used for a different request",
            field=("idempotencyKey",),
        )
    return StoredOutcome(
        issued=row.issued,
        skipped=row.skipped,
        coupon_id=row.coupon_id,
        points_spent=row.points_spent,
    )


async def record_outcome(
    session: AsyncSession, *, scope: str, key: str, outcome: StoredOutcome
) -> None:
    await session.execute(
        text(
            "UPDATE coupon_requests SET issued = :issued, skipped = :skipped,"
            " coupon_id = :coupon, points_spent = :points WHERE scope = :scope AND key = :key"
        ),
        {
            "issued": outcome.issued,
            "skipped": outcome.skipped,
            "coupon": outcome.coupon_id,
            "points": outcome.points_spent,
            "scope": scope,
            "key": key,
        },
    )

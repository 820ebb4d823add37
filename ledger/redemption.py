"""Redemption: a member spends available points, oldest-expiring first."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.errors import InvalidRequest
from ledger.model import Bucket, Channel, EntryKind, EntryRequest, LedgerConfig
from ledger.posting import PostingResult, post_entries
from ledger.requests import idempotency_key, required_text


async def redeem_points(
    *,
    session: AsyncSession,
    member_id: int,
    points: int,
    channel: Channel,
    store_id: str | None,
    reason: str,
    key_scope: str,
    key: str,
    now: datetime,
    config: LedgerConfig,
) -> PostingResult:
    """Debit ``points`` from AVAILABLE; INSUFFICIENT_POINTS (recorded, replayed) when short."""
    if points <= 0:
        raise InvalidRequest("points to redeem must be positive", field=("points",))
    reason = required_text(reason, "reason")
    request = EntryRequest(
        member_id=member_id,
        kind=EntryKind.REDEEM,
        bucket=Bucket.AVAILABLE,
        amount=-points,
        channel=channel,
        store_id=store_id,
        reason=reason,
    )
    return await post_entries(
        session=session,
        requests=[request],
        now=now,
        config=config,
        operation="redeem",
        idempotency=idempotency_key(
            key_scope, key, {"operation": "redeem", **request.fingerprint_fields()}
        ),
    )

"""Manual adjustments by an operator: signed, with a reason, never overdrawing."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.model import Bucket, Channel, EntryKind, EntryRequest, LedgerConfig
from ledger.posting import PostingResult, post_entries
from ledger.requests import idempotency_key, required_text


async def adjust_points(
    *,
    session: AsyncSession,
    member_id: int,
    points: int,
    reason: str,
    actor: str,
    key_scope: str,
    key: str,
    now: datetime,
    config: LedgerConfig,
) -> PostingResult:
    """Credit (positive) or debit (negative) AVAILABLE; a debit larger than the balance is
    INSUFFICIENT_POINTS. ``actor`` is recorded as the entry's reference."""
    reason = required_text(reason, "reason")
    request = EntryRequest(
        member_id=member_id,
        kind=EntryKind.ADJUST,
        bucket=Bucket.AVAILABLE,
        amount=points,
        channel=Channel.ADMIN,
        reference=f"by {actor}",
        reason=reason,
    )
    return await post_entries(
        session=session,
        requests=[request],
        now=now,
        config=config,
        operation="adjust",
        idempotency=idempotency_key(
            key_scope, key, {"operation": "adjust", **request.fingerprint_fields()}
        ),
        # An operator may still correct the balance of a merged or erased member.
        require_active=False,
    )

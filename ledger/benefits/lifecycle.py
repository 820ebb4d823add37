"""What happens to a coupon after its issue, each change an appended event: expiry (a
scheduled job, set-based) and voiding by an operator."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.benefits.errors import InvalidBenefit, NotFound
from ledger.benefits.model import Coupon
from ledger.benefits.queries import COUPON_COLUMNS, coupon_from_row

_EXPIRE = text(
    "WITH expired AS (UPDATE coupons SET status = 'EXPIRED', status_changed_at = :now"
    " WHERE status = 'ACTIVE' AND valid_until <= :now RETURNING id, member_id)"
    " INSERT INTO coupon_events (coupon_id, member_id, kind, at, actor)"
    " SELECT id, member_id, 'EXPIRED', :now, 'coupons.expire' FROM expired"
)


async def expire_coupons(*, session: AsyncSession, now: datetime) -> int:
    """Record every ACTIVE coupon past its last moment as EXPIRED; answer how many.

    Idempotent: a second run finds none left. A coupon being redeemed at that moment holds
    its row lock, and the UPDATE re-checks its status after the lock: it stays REDEEMED.
    """
    result = await session.execute(_EXPIRE, {"now": now})
    return result.rowcount or 0


async def void_coupon(
    *, session: AsyncSession, coupon_id: int, reason: str, actor: str, now: datetime
) -> Coupon:
    """An operator withdraws an ACTIVE coupon (issued by mistake, or abused)."""
    reason = reason.strip()
    if not reason or len(reason) > 500:
        raise InvalidBenefit("reason must have 1 to 500 characters", field=("reason",))
    row = (
        await session.execute(
            text(f"SELECT {COUPON_COLUMNS} FROM coupons WHERE id = :id FOR UPDATE"),
            {"id": coupon_id},
        )
    ).first()
    if row is None:
        raise NotFound(f"no coupon {coupon_id}", field=("id",))
    coupon = coupon_from_row(row)
    status = coupon.status_at(now)
    if status.value != "ACTIVE":
        raise InvalidBenefit(f"the coupon is {status.value.lower()}", field=("id",))
    voided = (
        await session.execute(
            text(
                "WITH voided AS (UPDATE coupons SET status = 'VOID', status_changed_at = :now"
                f" WHERE id = :id RETURNING {COUPON_COLUMNS}),"
                " event AS (INSERT INTO coupon_events (coupon_id, member_id, kind, at, actor,"
                " reason) SELECT id, member_id, 'VOIDED', :now, :actor, :reason FROM voided)"
                " SELECT * FROM voided"
            ),
            {"id": coupon_id, "now": now, "actor": actor, "reason": reason},
        )
    ).one()
    return coupon_from_row(voided)

"""Recompute each coupon's status from its events, and check the events' order.

A coupon's events start with one ISSUED; REDEEMED, EXPIRED and VOIDED follow only an
ACTIVE state (ISSUED or RETURNED); RETURNED follows only REDEEMED. The status stored on
the coupon must be what its last event leaves (``model.STATUS_AFTER``), and every event
must name the coupon's member. Set-based: two statements, whatever the number of coupons.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.benefits.model import STATUS_AFTER

_PROJECTED = (
    "CASE l.kind "
    + " ".join(
        f"WHEN '{event.value}' THEN '{status.value}'" for event, status in STATUS_AFTER.items()
    )
    + " END"
)

_BREAKS = text(
    "WITH ordered AS (SELECT e.coupon_id, e.id, e.kind, e.member_id,"
    "  lag(e.kind) OVER (PARTITION BY e.coupon_id ORDER BY e.id) AS prev"
    "  FROM coupon_events e),"
    " bad_events AS (SELECT o.coupon_id, 'event ' || o.id || ' ' || o.kind || ' after '"
    "  || coalesce(o.prev, 'nothing') AS what FROM ordered o WHERE NOT CASE o.kind"
    "  WHEN 'ISSUED' THEN o.prev IS NULL"
    "  WHEN 'RETURNED' THEN o.prev = 'REDEEMED'"
    "  ELSE o.prev IN ('ISSUED', 'RETURNED') END"
    "  UNION ALL SELECT o.coupon_id, 'event ' || o.id || ' names member ' || o.member_id"
    "  FROM ordered o JOIN coupons c ON c.id = o.coupon_id WHERE c.member_id <> o.member_id),"
    " last AS (SELECT DISTINCT ON (coupon_id) coupon_id, kind FROM coupon_events"
    "  ORDER BY coupon_id, id DESC),"
    " bad_status AS (SELECT c.id AS coupon_id, 'status ' || c.status || ', its events say '"
    f"  || coalesce({_PROJECTED}, 'nothing') AS what"
    "  FROM coupons c LEFT JOIN last l ON l.coupon_id = c.id"
    f"  WHERE {_PROJECTED} IS DISTINCT FROM c.status),"
    " breaks AS (SELECT * FROM bad_events UNION ALL SELECT * FROM bad_status)"
    " SELECT count(DISTINCT coupon_id) AS broken,"
    " (SELECT coupon_id FROM breaks ORDER BY coupon_id LIMIT 1) AS first_coupon,"
    " (SELECT what FROM breaks ORDER BY coupon_id, what LIMIT 1) AS first_what FROM breaks"
)

_COUNTS = text(
    "SELECT (SELECT count(*) FROM coupons) AS coupons,"
    " (SELECT count(*) FROM coupon_events) AS events"
)


@dataclass(frozen=True)
class CouponVerifyReport:
    coupons: int
    events: int
    broken: int
    first_coupon: int | None
    first_what: str | None

    @property
    def ok(self) -> bool:
        return self.broken == 0

    def summary(self) -> str:
        counts = f"{self.coupons} coupons, {self.events} events"
        if self.ok:
            return f"coupons verify: OK: {counts} checked"
        return (
            f"coupons verify: BROKEN: {self.broken} coupon(s); first: coupon"
            f" {self.first_coupon}: {self.first_what} ({counts} checked)"
        )


async def verify_coupons(*, session: AsyncSession) -> CouponVerifyReport:
    counts = (await session.execute(_COUNTS)).one()
    found = (await session.execute(_BREAKS)).one()
    return CouponVerifyReport(
        coupons=counts.coupons,
        events=counts.events,
        broken=found.broken,
        first_coupon=found.first_coupon,
        first_what=found.first_what,
    )

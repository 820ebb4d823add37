"""The dashboard for a date range (and optionally a store): each figure group from one
aggregate query."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import text

from sync.tiers import COUNTED


@dataclass(frozen=True)
class Dashboard:
    start: date
    end: date
    members: int
    new_members: int
    active_members: int
    repurchase_rate: float
    average_order_value: Decimal | None
    revenue: Decimal
    points_issued: int
    points_redeemed: int
    points_expired: int
    points_outstanding: int
    coupons_issued: int
    coupons_redeemed: int
    promotion_points: int
    tiers: list[tuple[str, int]]
    rfm: list[tuple[str, int]]
    lifecycle: list[tuple[str, int]]
    channels: list[tuple[str, int]]


class InvalidRange(ValueError):
    code = "INVALID_INPUT"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.field = ("to",)


#: Business days a period may name: a year-1 or far-future day is no programme's.
FIRST_DAY = date(2000, 1, 1)
LAST_DAY = date(2999, 12, 31)


def check_period(start: date, end: date) -> None:
    """InvalidRange unless [start, end] is a period of business days any programme has."""
    for name, day in (("from", start), ("to", end)):
        if not FIRST_DAY <= day <= LAST_DAY:
            error = InvalidRange(f"`{name}` must lie between {FIRST_DAY} and {LAST_DAY}")
            error.field = (name,)
            raise error
    if end < start:
        raise InvalidRange("`to` is before `from`")


def _bounds(start: date, end: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
    return (
        datetime.combine(start, time.min, tzinfo=zone),
        datetime.combine(end + timedelta(days=1), time.min, tzinfo=zone),
    )


async def build_dashboard(
    execute: Any,
    *,
    start: date,
    end: date,
    store_id: str | None,
    zone: ZoneInfo,
    lowest_tier: str,
) -> Dashboard:
    check_period(start, end)
    since, until = _bounds(start, end, zone)
    period = {"since": since, "until": until, "store": store_id}
    members = (
        await execute(
            text(
                "SELECT count(*) FILTER (WHERE created_at < :until) AS members,"
                " count(*) FILTER (WHERE created_at >= :since AND created_at < :until) AS new"
                " FROM members WHERE status = 'ACTIVE'"
            ),
            period,
        )
    ).one()
    sales = (
        await execute(
            text(
                "SELECT count(*) AS buyers, count(*) FILTER (WHERE orders >= 2) AS repeat,"
                " coalesce(sum(orders), 0) AS orders, coalesce(sum(spend), 0) AS revenue FROM ("
                "  SELECT member_id, count(*) FILTER (WHERE status <> 'REFUNDED') AS orders,"
                "   sum(amount - refunded_amount) AS spend FROM purchases"
                "  WHERE status <> 'REJECTED' AND member_id IS NOT NULL"
                "   AND occurred_at >= :since AND occurred_at < :until"
                "   AND (CAST(:store AS text) IS NULL OR store_id = :store)"
                "  GROUP BY member_id) b"
            ),
            period,
        )
    ).one()
    points = (
        await execute(
            text(
                "SELECT coalesce(sum(amount) FILTER (WHERE kind IN ('EARN', 'BONUS', 'ADJUST')"
                "  AND amount > 0 AND bucket <> 'HELD' AND reverses_id IS NULL), 0) AS issued,"
                " coalesce(-sum(amount) FILTER (WHERE kind = 'REDEEM'), 0) AS redeemed,"
                " coalesce(-sum(amount) FILTER (WHERE kind = 'EXPIRE'), 0) AS expired"
                " FROM ledger_entries WHERE created_at >= :since AND created_at < :until"
                " AND (CAST(:store AS text) IS NULL OR store_id = :store)"
            ),
            period,
        )
    ).one()
    coupons = (
        await execute(
            text(
                # Coupons are issued to members, not at a store: a store's dashboard counts
                # every issue of the period and the redemptions at that store.
                "SELECT count(*) FILTER (WHERE e.kind = 'ISSUED') AS issued,"
                " count(*) FILTER (WHERE e.kind = 'REDEEMED'"
                "  AND (CAST(:store AS text) IS NULL OR p.store_id = :store)) AS redeemed"
                " FROM coupon_events e LEFT JOIN purchases p ON p.id = e.purchase_id"
                " WHERE e.at >= :since AND e.at < :until AND e.kind IN ('ISSUED', 'REDEEMED')"
            ),
            period,
        )
    ).one()
    promotions = (
        await execute(
            text(
                # What promotions added beyond base and tier points, as Promotion.pointsAwarded
                # counts it: purchases that count (neither rejected nor held) of the period.
                "SELECT coalesce(sum(pp.points), 0) FROM purchase_points pp"
                " JOIN purchases p ON p.id = pp.purchase_id"
                " WHERE pp.promotion_id IS NOT NULL"
                f" AND p.status IN {COUNTED}"
                " AND p.occurred_at >= :since AND p.occurred_at < :until"
                " AND (CAST(:store AS text) IS NULL OR p.store_id = :store)"
            ),
            period,
        )
    ).scalar_one()
    outstanding = (
        await execute(
            text(
                "SELECT coalesce(sum(balance), 0) FROM points_balances"
                " WHERE bucket IN ('AVAILABLE', 'PENDING')"
            )
        )
    ).scalar_one()

    async def counts(sql: str, **params: Any) -> list[tuple[str, int]]:
        rows = await execute(text(sql), params)
        return [(row.key, row.count) for row in rows]

    revenue = Decimal(sales.revenue).quantize(Decimal("0.01"))
    return Dashboard(
        start=start,
        end=end,
        members=members.members,
        new_members=members.new,
        active_members=sales.buyers,
        repurchase_rate=round(sales.repeat / sales.buyers, 4) if sales.buyers else 0.0,
        average_order_value=(
            (revenue / sales.orders).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
            if sales.orders
            else None
        ),
        revenue=revenue,
        points_issued=int(points.issued),
        points_redeemed=int(points.redeemed),
        points_expired=int(points.expired),
        points_outstanding=int(outstanding),
        coupons_issued=int(coupons.issued),
        coupons_redeemed=int(coupons.redeemed),
        promotion_points=int(promotions),
        tiers=await counts(
            "SELECT coalesce(t.tier_code, :lowest) AS key, count(*) AS count FROM members m"
            " LEFT JOIN member_tiers t ON t.member_id = m.id AND t.until IS NULL"
            " WHERE m.status = 'ACTIVE' GROUP BY 1 ORDER BY 1",
            lowest=lowest_tier,
        ),
        rfm=await counts(
            "SELECT segment AS key, count(*) AS count FROM member_rfm GROUP BY 1 ORDER BY 1"
        ),
        lifecycle=await counts(
            "SELECT stage AS key, count(*) AS count FROM member_lifecycle GROUP BY 1 ORDER BY 1"
        ),
        channels=await counts(
            "SELECT registered_channel AS key, count(*) AS count FROM members"
            " WHERE status = 'ACTIVE' GROUP BY 1 ORDER BY 1"
        ),
    )

"""Earning rules: how many points a purchase earns, by a versioned set of rules.

Each purchase records the version of the rules that priced it; a rule change is a new
version and never reprices what was recorded before.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import ROUND_FLOOR, Decimal
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class Promotion:
    """Extra points on matching lines (a category or a SKU) during a date range.

    ``multiplier`` 2 earns the base rate twice on those lines (once more than without it).
    Dates are business days in the programme's zone, both inclusive.
    """

    multiplier: Decimal
    starts_on: date
    ends_on: date
    category: str | None = None
    sku: str | None = None

    def applies(self, *, sku: str, category: str | None, day: date) -> bool:
        if not self.starts_on <= day <= self.ends_on:
            return False
        return (self.sku is not None and self.sku == sku) or (
            self.category is not None and self.category == category
        )


@dataclass(frozen=True)
class EarningRules:
    version: str = "2026-01"
    #: Points for each full 100 yuan of a purchase's amount (10 per 100: 1 per 10 yuan).
    points_per_100: int = 10
    promotions: tuple[Promotion, ...] = ()
    #: Purchase points settle to AVAILABLE this many business days later (T+1).
    settlement_days: int = 1


@dataclass(frozen=True)
class Line:
    sku: str
    category: str | None
    quantity: int
    unit_price: Decimal


@dataclass(frozen=True)
class Earning:
    points: int
    has_promotion: bool
    rule_version: str
    base: int = 0
    promoted: int = 0


def _floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def purchase_points(
    *,
    amount: Decimal,
    lines: Sequence[Line],
    tier_multiplier: Decimal,
    day: date,
    rules: EarningRules,
) -> Earning:
    """Base points on the amount (rounded down per purchase), promotions' extra on their
    lines, the whole times the tier multiplier (rounded down)."""
    rate = Decimal(rules.points_per_100) / 100
    base = amount * rate
    extra = Decimal(0)
    promoted = False
    for line in lines:
        line_amount = line.unit_price * line.quantity
        for promotion in rules.promotions:
            if promotion.applies(sku=line.sku, category=line.category, day=day):
                extra += line_amount * rate * (promotion.multiplier - 1)
                promoted = True
    points = _floor((Decimal(_floor(base)) + extra) * tier_multiplier)
    return Earning(
        points=max(points, 0),
        has_promotion=promoted,
        rule_version=rules.version,
        base=_floor(base),
        promoted=_floor(extra),
    )


def settles_at(occurred_at: datetime, *, days: int, zone: ZoneInfo) -> datetime:
    """The start of the business day ``days`` after the purchase's business day."""
    day = occurred_at.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, time.min, tzinfo=zone)

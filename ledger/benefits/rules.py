"""What a coupon gives on a basket: pure functions, no database.

A coupon is checked in a fixed order and the first failing check names the reason, so a
till always shows the same reason for the same coupon and basket:

NOT_OWNER, USED, VOID, EXPIRED, NOT_YET_VALID, CHANNEL, STORE, CATEGORY, MIN_SPEND.

The eligible amount is the whole basket, or, when the template names categories, the
lines of those categories (CATEGORY when there are none, or when no lines were sent). A
minimum spend is compared with the eligible amount. Discounts are in yuan, to the fen,
rounded half up, and never more than the eligible amount.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal

from ledger.benefits.model import Coupon, CouponKind, CouponStatus, CouponTemplate

FEN = Decimal("0.01")
HUNDRED = Decimal(100)
ZERO = Decimal("0.00")


class QuoteReason(enum.StrEnum):
    NOT_OWNER = "NOT_OWNER"
    USED = "USED"
    VOID = "VOID"
    EXPIRED = "EXPIRED"
    NOT_YET_VALID = "NOT_YET_VALID"
    CHANNEL = "CHANNEL"
    STORE = "STORE"
    CATEGORY = "CATEGORY"
    MIN_SPEND = "MIN_SPEND"


@dataclass(frozen=True)
class BasketLine:
    sku: str
    category: str | None
    quantity: int
    unit_price: Decimal

    @property
    def total(self) -> Decimal:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class Basket:
    member_id: int
    store_id: str
    channel: str
    amount: Decimal
    lines: tuple[BasketLine, ...] = ()


@dataclass(frozen=True)
class Quote:
    usable: bool
    discount: Decimal
    reason: QuoteReason | None = None


def refused(reason: QuoteReason) -> Quote:
    return Quote(usable=False, discount=ZERO, reason=reason)


def eligible_amount(template: CouponTemplate, basket: Basket) -> Decimal | None:
    """The part of the basket the coupon applies to; None when no line qualifies."""
    if not template.categories:
        return basket.amount
    wanted = set(template.categories)
    lines = [line for line in basket.lines if line.category in wanted]
    if not lines:
        return None
    # Lines may carry more than was paid (a whole-basket discount): never above the total.
    return min(sum((line.total for line in lines), ZERO), basket.amount)


def discount(template: CouponTemplate, eligible: Decimal) -> Decimal:
    """Yuan off ``eligible``: 0 for gifts, points multipliers and free shipping."""
    if template.kind is CouponKind.CASH_OFF:
        assert template.value is not None
        return min(template.value, eligible).quantize(FEN)
    if template.kind is CouponKind.PERCENT_OFF:
        assert template.value is not None
        off = eligible * (HUNDRED - template.value) / HUNDRED
        return off.quantize(FEN, rounding=ROUND_HALF_UP)
    return ZERO


def quote(coupon: Coupon, template: CouponTemplate, basket: Basket, now: datetime) -> Quote:
    """What ``coupon`` gives on ``basket`` at ``now``, or the first reason it cannot."""
    if coupon.member_id != basket.member_id:
        return refused(QuoteReason.NOT_OWNER)
    status = coupon.status_at(now)
    if status is CouponStatus.REDEEMED:
        return refused(QuoteReason.USED)
    if status is CouponStatus.VOID:
        return refused(QuoteReason.VOID)
    if status is CouponStatus.EXPIRED:
        return refused(QuoteReason.EXPIRED)
    if now < coupon.valid_from:
        return refused(QuoteReason.NOT_YET_VALID)
    if template.channels and basket.channel not in template.channels:
        return refused(QuoteReason.CHANNEL)
    if template.store_ids and basket.store_id not in template.store_ids:
        return refused(QuoteReason.STORE)
    eligible = eligible_amount(template, basket)
    if eligible is None:
        return refused(QuoteReason.CATEGORY)
    if template.min_spend is not None and eligible < template.min_spend:
        return refused(QuoteReason.MIN_SPEND)
    return Quote(usable=True, discount=discount(template, eligible))


def quote_all(
    coupons: Sequence[tuple[Coupon, CouponTemplate]], basket: Basket, now: datetime
) -> list[Quote]:
    """Each coupon on its own against the same basket (no stacking is decided here)."""
    return [quote(coupon, template, basket, now) for coupon, template in coupons]

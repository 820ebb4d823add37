"""The plain model of benefits: templates, coupons, their kinds, statuses and events."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal


class CouponKind(enum.StrEnum):
    CASH_OFF = "CASH_OFF"
    PERCENT_OFF = "PERCENT_OFF"
    GIFT = "GIFT"
    POINTS_MULTIPLIER = "POINTS_MULTIPLIER"
    FREE_SHIPPING = "FREE_SHIPPING"


#: Kinds whose template carries a ``value``; the others must not.
VALUED_KINDS = frozenset(
    {CouponKind.CASH_OFF, CouponKind.PERCENT_OFF, CouponKind.POINTS_MULTIPLIER}
)


class CouponStatus(enum.StrEnum):
    ACTIVE = "ACTIVE"
    REDEEMED = "REDEEMED"
    EXPIRED = "EXPIRED"
    VOID = "VOID"


class CouponSource(enum.StrEnum):
    MANUAL = "MANUAL"
    REWARD = "REWARD"
    BIRTHDAY = "BIRTHDAY"
    REFERRAL = "REFERRAL"
    CAMPAIGN = "CAMPAIGN"


class CouponEventKind(enum.StrEnum):
    ISSUED = "ISSUED"
    REDEEMED = "REDEEMED"
    EXPIRED = "EXPIRED"
    VOIDED = "VOIDED"
    #: A refund gave the coupon back: it is ACTIVE again.
    RETURNED = "RETURNED"


#: The status each event leaves a coupon in: the projection ``verify`` recomputes.
STATUS_AFTER: dict[CouponEventKind, CouponStatus] = {
    CouponEventKind.ISSUED: CouponStatus.ACTIVE,
    CouponEventKind.REDEEMED: CouponStatus.REDEEMED,
    CouponEventKind.EXPIRED: CouponStatus.EXPIRED,
    CouponEventKind.VOIDED: CouponStatus.VOID,
    CouponEventKind.RETURNED: CouponStatus.ACTIVE,
}


@dataclass(frozen=True)
class TemplateSpec:
    """What an operator asks for when defining a template (checked by ``templates``)."""

    code: str
    name: str
    kind: CouponKind
    value: Decimal | None
    min_spend: Decimal | None
    categories: tuple[str, ...]
    channels: tuple[str, ...]
    store_ids: tuple[str, ...]
    valid_days: int
    valid_from: datetime | None
    valid_until: datetime | None
    stock: int | None
    per_member_limit: int | None
    points_price: int | None


@dataclass(frozen=True)
class CouponTemplate:
    id: int
    code: str
    name: str
    kind: CouponKind
    value: Decimal | None
    min_spend: Decimal | None
    categories: tuple[str, ...]
    channels: tuple[str, ...]
    store_ids: tuple[str, ...]
    valid_days: int
    valid_from: datetime | None
    valid_until: datetime | None
    #: Coupons left to issue; None is unlimited.
    stock: int | None
    per_member_limit: int | None
    points_price: int | None
    active: bool
    created_at: datetime


def validity(template: CouponTemplate, issued_at: datetime) -> tuple[datetime, datetime]:
    """When a coupon issued at ``issued_at`` may be used: from issue (or the template's
    first day, whichever is later) for ``valid_days``, never past the template's last day."""
    start = max(issued_at, template.valid_from) if template.valid_from else issued_at
    end = issued_at + timedelta(days=template.valid_days)
    if template.valid_until is not None:
        end = min(end, template.valid_until)
    return start, end


@dataclass(frozen=True)
class Coupon:
    id: int
    code: str
    template_id: int
    member_id: int
    #: As stored: ACTIVE until an event (or the expiry job) changes it.
    status: CouponStatus
    source: CouponSource
    reason: str | None
    issued_at: datetime
    valid_from: datetime
    valid_until: datetime
    redeemed_at: datetime | None
    redeemed_purchase_id: int | None

    def status_at(self, now: datetime) -> CouponStatus:
        """What a client sees: an ACTIVE coupon past its last moment is EXPIRED already,
        though the expiry job has not recorded it yet."""
        if self.status is CouponStatus.ACTIVE and self.valid_until <= now:
            return CouponStatus.EXPIRED
        return self.status


@dataclass(frozen=True)
class TemplateStats:
    issued: int
    redeemed: int
    expired: int
    revenue: Decimal

    @property
    def redemption_rate(self) -> float | None:
        return None if self.issued == 0 else self.redeemed / self.issued

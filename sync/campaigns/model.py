"""Campaigns as plain data, and the checks a new campaign must pass before it is written."""

from __future__ import annotations

import enum
import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime


class CampaignError(Exception):
    code = "INVALID_INPUT"

    def __init__(self, message: str, *, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.field = tuple(field) if field is not None else None


class InvalidCampaign(CampaignError):
    code = "INVALID_INPUT"


class CampaignNotFound(CampaignError):
    code = "NOT_FOUND"


class Trigger(enum.StrEnum):
    ONCE = "ONCE"
    SEGMENT_ENTERED = "SEGMENT_ENTERED"
    BIRTHDAY = "BIRTHDAY"
    INACTIVE_DAYS = "INACTIVE_DAYS"
    POINTS_EXPIRING = "POINTS_EXPIRING"
    TIER_UPGRADED = "TIER_UPGRADED"
    DAYS_AFTER_PURCHASE = "DAYS_AFTER_PURCHASE"


#: Triggers that need ``trigger_days``.
DAYS_TRIGGERS = frozenset(
    {
        Trigger.BIRTHDAY,
        Trigger.INACTIVE_DAYS,
        Trigger.POINTS_EXPIRING,
        Trigger.DAYS_AFTER_PURCHASE,
    }
)


class Status(enum.StrEnum):
    DRAFT = "DRAFT"
    RUNNING = "RUNNING"
    PAUSED = "PAUSED"
    FINISHED = "FINISHED"


class MessageChannel(enum.StrEnum):
    WECHAT_SUBSCRIBE = "WECHAT_SUBSCRIBE"
    SMS = "SMS"
    WEBHOOK = "WEBHOOK"


class Outcome(enum.StrEnum):
    #: Assigned; a message waits to be sent.
    PENDING = "PENDING"
    SENT = "SENT"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"
    SKIPPED_NO_CONSENT = "SKIPPED_NO_CONSENT"
    #: Waiting for the quiet hours to end; sent then.
    SKIPPED_QUIET_HOURS = "SKIPPED_QUIET_HOURS"
    HOLDOUT = "HOLDOUT"
    #: Reached by an arm that sends no message (a coupon or points only).
    DONE = "DONE"


MAX_NAME = 200
MAX_ARM_NAME = 100
MAX_ARMS = 20
MAX_WEIGHT = 10_000
MAX_POINTS = 1_000_000
MAX_DAYS = 3650
MAX_CATEGORY = 100
MAX_TEMPLATE_ID = 200
MAX_DATA_ITEMS = 20
MAX_DATA_TEXT = 500


@dataclass(frozen=True)
class Message:
    channel: MessageChannel
    template_id: str
    data: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True)
class ArmSpec:
    name: str
    weight: int
    coupon_template_id: int | None = None
    award_points: int | None = None
    message: Message | None = None

    @property
    def holdout(self) -> bool:
        return self.coupon_template_id is None and self.award_points is None and not self.message


@dataclass(frozen=True)
class CampaignSpec:
    name: str
    trigger: Trigger
    starts_at: datetime
    arms: tuple[ArmSpec, ...]
    audience_segment_id: int | None = None
    trigger_days: int | None = None
    trigger_category: str | None = None
    ends_at: datetime | None = None
    frequency_cap_days: int = 30
    conversion_window_days: int = 14


@dataclass(frozen=True)
class Campaign:
    id: int
    name: str
    status: Status
    trigger: Trigger
    trigger_days: int | None
    trigger_category: str | None
    audience_segment_id: int | None
    starts_at: datetime
    ends_at: datetime | None
    frequency_cap_days: int
    conversion_window_days: int


def _text(value: str, limit: int, field: Sequence[str]) -> str:
    stripped = value.strip()
    if not stripped or len(stripped) > limit or "\x00" in stripped:
        raise InvalidCampaign(f"give 1 to {limit} characters", field=field)
    return stripped


def _in_range(value: int | None, low: int, high: int, field: Sequence[str]) -> None:
    if value is not None and not low <= value <= high:
        raise InvalidCampaign(f"must be {low} to {high}", field=field)


def check_spec(spec: CampaignSpec) -> CampaignSpec:
    """The spec with its texts trimmed; InvalidCampaign naming the first bad field."""
    name = _text(spec.name, MAX_NAME, ("input", "name"))
    if spec.trigger in DAYS_TRIGGERS and spec.trigger_days is None:
        raise InvalidCampaign(
            f"{spec.trigger.value} needs triggerDays", field=("input", "triggerDays")
        )
    _in_range(spec.trigger_days, 0, MAX_DAYS, ("input", "triggerDays"))
    _in_range(spec.frequency_cap_days, 0, MAX_DAYS, ("input", "frequencyCapDays"))
    _in_range(spec.conversion_window_days, 1, 365, ("input", "conversionWindowDays"))
    if spec.trigger is Trigger.SEGMENT_ENTERED and spec.audience_segment_id is None:
        raise InvalidCampaign(
            "SEGMENT_ENTERED needs an audience segment", field=("input", "audienceSegmentId")
        )
    category = spec.trigger_category
    if category is not None:
        category = _text(category, MAX_CATEGORY, ("input", "triggerCategory"))
    if spec.ends_at is not None and spec.ends_at <= spec.starts_at:
        raise InvalidCampaign("endsAt must be after startsAt", field=("input", "endsAt"))
    if not 1 <= len(spec.arms) <= MAX_ARMS:
        raise InvalidCampaign(f"give 1 to {MAX_ARMS} arms", field=("input", "arms"))
    arms = tuple(_check_arm(arm, n) for n, arm in enumerate(spec.arms))
    if len({a.name for a in arms}) != len(arms):
        raise InvalidCampaign("arm names must differ", field=("input", "arms"))
    return CampaignSpec(
        name=name,
        trigger=spec.trigger,
        starts_at=spec.starts_at,
        arms=arms,
        audience_segment_id=spec.audience_segment_id,
        trigger_days=spec.trigger_days,
        trigger_category=category,
        ends_at=spec.ends_at,
        frequency_cap_days=spec.frequency_cap_days,
        conversion_window_days=spec.conversion_window_days,
    )


def _check_arm(arm: ArmSpec, n: int) -> ArmSpec:
    at = ("input", "arms", str(n))
    name = _text(arm.name, MAX_ARM_NAME, (*at, "name"))
    _in_range(arm.weight, 1, MAX_WEIGHT, (*at, "weight"))
    _in_range(arm.award_points, 1, MAX_POINTS, (*at, "action", "awardPoints"))
    message = arm.message
    if message is not None:
        template_id = _text(message.template_id, MAX_TEMPLATE_ID, (*at, "action", "message"))
        if len(message.data) > MAX_DATA_ITEMS:
            raise InvalidCampaign(
                f"at most {MAX_DATA_ITEMS} data items", field=(*at, "action", "message", "data")
            )
        for key, value in message.data:
            _text(key, MAX_ARM_NAME, (*at, "action", "message", "data"))
            if len(value) > MAX_DATA_TEXT or "\x00" in value:
                raise InvalidCampaign(
                    f"a data value has at most {MAX_DATA_TEXT} characters",
                    field=(*at, "action", "message", "data"),
                )
        message = Message(message.channel, template_id, message.data)
    return ArmSpec(name, arm.weight, arm.coupon_template_id, arm.award_points, message)


@dataclass(frozen=True)
class ArmReport:
    name: str
    weight: int
    holdout: bool
    members: int
    reached: int
    converted: int
    revenue: object
    coupons_redeemed: int
    points_awarded: int

    @property
    def conversion_rate(self) -> float | None:
        return self.converted / self.members if self.members else None


def two_proportion_p_value(x1: int, n1: int, x2: int, n2: int) -> float | None:
    """Two-sided p-value of a pooled two-proportion z-test; None when it is undefined."""
    if n1 == 0 or n2 == 0:
        return None
    pooled = (x1 + x2) / (n1 + n2)
    variance = pooled * (1 - pooled) * (1 / n1 + 1 / n2)
    if variance == 0:
        return 1.0
    z = (x1 / n1 - x2 / n2) / math.sqrt(variance)
    return math.erfc(abs(z) / math.sqrt(2))

"""The programme's earning rules as data, and how they price one purchase.

Pure rules, no database: the same function prices a purchase at the till and explains it
later, and the dry run of a rule change replays it set-based in SQL (its tests hold the SQL
to this function).

How a purchase earns, in order:

1. ``BASE``: the amount at the base rate, ``floor(amount * points_per_100 / 100)``.
2. Promotions that apply (every condition they set holds). Of the non-stackable ones only
   the best (most points) applies; every stackable one applies beside it. Multipliers
   compound in a fixed order (the best non-stackable first, then stackable ones by start,
   then id): the k-th adds ``floor(scope * (value - 1) * product of the earlier values)``,
   where ``scope`` is the base points of the lines it covers (the whole purchase when it
   names no category or SKU). Two stackable doublings make four times the base.
3. ``TIER``: the member's tier multiplier on base plus multiplier promotions,
   ``floor((base + multiplied) * (tier - 1))``.
4. Bonus points promotions add their ``value`` once, after the tier (a bonus is a fixed
   gift, not a rate).

Each cause's points are a line of the purchase's breakdown: ``BASE``, ``TIER``,
``PROMOTION:<name>``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import ROUND_FLOOR, Decimal
from enum import StrEnum


class PromotionKind(StrEnum):
    MULTIPLIER = "MULTIPLIER"
    BONUS_POINTS = "BONUS_POINTS"


@dataclass(frozen=True)
class PromotionRule:
    """A promotion; an empty condition (``()`` or ``None``) does not restrict."""

    id: str
    name: str
    kind: PromotionKind
    #: A multiplier (2 doubles base points) or a number of bonus points.
    value: Decimal
    starts_at: datetime
    ends_at: datetime | None = None
    days_of_month: tuple[int, ...] = ()
    #: ISO weekdays, 1 = Monday.
    days_of_week: tuple[int, ...] = ()
    #: Within this many days of the birthday, either side; 0 = on the day.
    birthday_window_days: int | None = None
    tier_codes: tuple[str, ...] = ()
    segment_id: str | None = None
    categories: tuple[str, ...] = ()
    skus: tuple[str, ...] = ()
    channels: tuple[str, ...] = ()
    store_ids: tuple[str, ...] = ()
    #: The member's Nth purchase ever (1 = the first).
    nth_purchase: int | None = None
    stackable: bool = False

    @property
    def names_lines(self) -> bool:
        return bool(self.categories or self.skus)

    def covers(self, line: PricedLine) -> bool:
        return line.sku in self.skus or (
            line.category is not None and line.category in self.categories
        )


@dataclass(frozen=True)
class TierRule:
    code: str
    name: str
    #: Spend over the qualifying window that reaches the tier; the lowest tier's is 0.
    threshold: Decimal
    multiplier: Decimal
    #: Percent a member of the tier pays at the till (95 = 5% off); None for none.
    pay_percent: Decimal | None = None
    perks: tuple[str, ...] = ()


@dataclass(frozen=True)
class RuleSet:
    """Everything that prices a purchase: the base rate, the tier ladder, the promotions."""

    points_per_100: int
    #: Lowest first.
    tiers: tuple[TierRule, ...]
    promotions: tuple[PromotionRule, ...] = ()

    def tier(self, code: str | None) -> TierRule:
        for tier in self.tiers:
            if tier.code == code:
                return tier
        return self.tiers[0]


@dataclass(frozen=True)
class PricedLine:
    sku: str
    category: str | None
    #: The line's amount (quantity times unit price).
    amount: Decimal


@dataclass(frozen=True)
class PurchaseFacts:
    """What the rules may look at: the purchase, and the buyer at the moment of purchase."""

    amount: Decimal
    #: The purchase's business day and time in the programme's zone.
    occurred_at: datetime
    channel: str
    store_id: str | None
    lines: Sequence[PricedLine] = ()
    tier_code: str | None = None
    birthday: date | None = None
    segment_ids: frozenset[str] = frozenset()
    #: 1 for the member's first purchase ever.
    purchase_number: int = 1


@dataclass(frozen=True)
class PointsBreakdown:
    #: (cause, points) in the order they were computed; causes are BASE, TIER, PROMOTION:<name>.
    lines: tuple[tuple[str, int], ...]

    @property
    def points(self) -> int:
        return sum(points for _, points in self.lines)


def floor(value: Decimal) -> int:
    return int(value.to_integral_value(rounding=ROUND_FLOOR))


def days_from_birthday(day: date, birthday: date) -> int:
    """Days between ``day`` and the nearest birthday (this year's, last or next year's);
    a 29 February birthday falls on 28 February in other years."""

    def on(year: int) -> date:
        try:
            return birthday.replace(year=year)
        except ValueError:
            return date(year, 2, 28)

    return min(abs((day - on(day.year + d)).days) for d in (-1, 0, 1))


def applies(rule: PromotionRule, facts: PurchaseFacts) -> bool:
    """Whether every condition the promotion sets holds for the purchase."""
    at = facts.occurred_at
    day = at.date()
    if at < rule.starts_at or (rule.ends_at is not None and at >= rule.ends_at):
        return False
    if rule.days_of_month and day.day not in rule.days_of_month:
        return False
    if rule.days_of_week and day.isoweekday() not in rule.days_of_week:
        return False
    if rule.birthday_window_days is not None and (
        facts.birthday is None
        or days_from_birthday(day, facts.birthday) > rule.birthday_window_days
    ):
        return False
    if rule.tier_codes and facts.tier_code not in rule.tier_codes:
        return False
    if rule.segment_id is not None and rule.segment_id not in facts.segment_ids:
        return False
    if rule.channels and facts.channel not in rule.channels:
        return False
    if rule.store_ids and facts.store_id not in rule.store_ids:
        return False
    if rule.nth_purchase is not None and facts.purchase_number != rule.nth_purchase:
        return False
    return not rule.names_lines or any(rule.covers(line) for line in facts.lines)


def _scope(rule: PromotionRule, facts: PurchaseFacts, rate: Decimal, base: int) -> Decimal:
    if not rule.names_lines:
        return Decimal(base)
    covered = sum((line.amount for line in facts.lines if rule.covers(line)), Decimal(0))
    return min(covered * rate, Decimal(base))


def _alone(rule: PromotionRule, facts: PurchaseFacts, rate: Decimal, base: int) -> int:
    """What the promotion alone would add: how the best non-stackable one is chosen."""
    if rule.kind is PromotionKind.BONUS_POINTS:
        return floor(rule.value)
    return floor(_scope(rule, facts, rate, base) * (rule.value - 1))


def chosen_promotions(rules: RuleSet, facts: PurchaseFacts) -> list[PromotionRule]:
    """The promotions that apply, in the order they compound: the best non-stackable one
    (most points alone; the earlier start, then the smaller id, on a tie), then every
    stackable one by start, then id."""
    rate = Decimal(rules.points_per_100) / 100
    base = floor(facts.amount * rate)
    matching = [p for p in rules.promotions if applies(p, facts)]
    single = [p for p in matching if not p.stackable]
    chosen: list[PromotionRule] = []
    if single:
        chosen.append(min(single, key=lambda p: (-_alone(p, facts, rate, base), p.starts_at, p.id)))
    chosen.extend(sorted((p for p in matching if p.stackable), key=lambda p: (p.starts_at, p.id)))
    return chosen


def price_purchase(rules: RuleSet, facts: PurchaseFacts) -> PointsBreakdown:
    """The points a purchase earns under ``rules``, by cause. A negative or zero amount
    earns nothing."""
    rate = Decimal(rules.points_per_100) / 100
    base = max(floor(facts.amount * rate), 0)
    lines: list[tuple[str, int]] = [("BASE", base)]
    if base == 0:
        return PointsBreakdown(tuple(lines))
    chosen = chosen_promotions(rules, facts)
    compounded = Decimal(1)
    multiplied = 0
    bonuses: list[tuple[str, int]] = []
    for rule in chosen:
        if rule.kind is PromotionKind.BONUS_POINTS:
            bonuses.append((f"PROMOTION:{rule.name}", floor(rule.value)))
            continue
        extra = floor(_scope(rule, facts, rate, base) * (rule.value - 1) * compounded)
        compounded *= rule.value
        multiplied += extra
        lines.append((f"PROMOTION:{rule.name}", extra))
    tier = rules.tier(facts.tier_code)
    lines.insert(1, ("TIER", floor((base + multiplied) * (tier.multiplier - 1))))
    lines.extend(bonuses)
    return PointsBreakdown(tuple(lines))

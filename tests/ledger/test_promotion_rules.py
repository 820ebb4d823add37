"""How one purchase earns under a rule set: base, tier, promotions (no database)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal

from ledger.promotion_rules import (
    PricedLine,
    PromotionKind,
    PromotionRule,
    PurchaseFacts,
    RuleSet,
    TierRule,
    days_from_birthday,
    price_purchase,
)

START = datetime(2026, 1, 1, tzinfo=UTC)
LADDER = (
    TierRule("REGULAR", "Regular", Decimal(0), Decimal(1)),
    TierRule("GOLD", "Gold", Decimal(5000), Decimal("1.5"), Decimal(95), ("专属客服",)),
)


def promotion(name: str, value: str, **conditions: object) -> PromotionRule:
    kind = conditions.pop("kind", PromotionKind.MULTIPLIER)
    return PromotionRule(
        id=name,
        name=name,
        kind=kind,
        value=Decimal(value),
        starts_at=START,
        **conditions,  # type: ignore[arg-type]
    )


def facts(amount: str, at: datetime, **more: object) -> PurchaseFacts:
    return PurchaseFacts(
        amount=Decimal(amount), occurred_at=at, channel="POS", store_id="S1", **more
    )  # type: ignore[arg-type]


MEMBER_DAY = datetime(2026, 3, 8, 12, tzinfo=UTC)
OTHER_DAY = datetime(2026, 3, 9, 12, tzinfo=UTC)


def test_base_and_tier_without_promotions():
    rules = RuleSet(10, LADDER)
    priced = price_purchase(rules, facts("199.99", OTHER_DAY, tier_code="GOLD"))
    assert priced.lines == (("BASE", 19), ("TIER", 9))
    assert priced.points == 28


def test_member_day_doubles_and_a_stackable_birthday_doubling_compounds():
    rules = RuleSet(
        10,
        LADDER,
        (
            promotion("member day", "2", days_of_month=(8,)),
            promotion("birthday", "2", birthday_window_days=3, stackable=True),
        ),
    )
    on_member_day = facts("100", MEMBER_DAY, birthday=date(1990, 3, 10))
    assert price_purchase(rules, on_member_day).lines == (
        ("BASE", 10),
        ("TIER", 0),
        ("PROMOTION:member day", 10),
        ("PROMOTION:birthday", 20),
    )
    assert price_purchase(rules, facts("100", OTHER_DAY)).points == 10


def test_only_the_best_of_non_stackable_promotions_applies():
    rules = RuleSet(
        10,
        LADDER,
        (promotion("small", "1.5"), promotion("bonus", "30", kind=PromotionKind.BONUS_POINTS)),
    )
    assert price_purchase(rules, facts("100", OTHER_DAY)).lines == (
        ("BASE", 10),
        ("TIER", 0),
        ("PROMOTION:bonus", 30),
    )


def test_a_category_promotion_multiplies_only_its_lines_and_needs_one():
    rules = RuleSet(10, LADDER, (promotion("formula", "3", categories=("formula",)),))
    lines = (PricedLine("A1", "formula", Decimal(60)), PricedLine("B1", "toys", Decimal(40)))
    assert price_purchase(rules, facts("100", OTHER_DAY, lines=lines)).points == 10 + 12
    toys = (PricedLine("B1", "toys", Decimal(100)),)
    assert price_purchase(rules, facts("100", OTHER_DAY, lines=toys)).points == 10


def test_accelerator_counts_the_members_nth_purchase_and_the_window_ends():
    second = promotion(
        "second +50%", "1.5", nth_purchase=2, ends_at=datetime(2026, 6, 1, tzinfo=UTC)
    )
    rules = RuleSet(10, LADDER, (second,))
    assert price_purchase(rules, facts("200", OTHER_DAY, purchase_number=2)).points == 30
    assert price_purchase(rules, facts("200", OTHER_DAY, purchase_number=3)).points == 20
    later = datetime(2026, 6, 1, tzinfo=UTC)
    assert price_purchase(rules, facts("200", later, purchase_number=2)).points == 20


def test_nothing_is_earned_on_a_zero_amount():
    rules = RuleSet(10, LADDER, (promotion("bonus", "30", kind=PromotionKind.BONUS_POINTS),))
    assert price_purchase(rules, facts("0", OTHER_DAY)).points == 0


def test_birthday_distance_wraps_the_year_and_handles_29_february():
    assert days_from_birthday(date(2026, 1, 1), date(1990, 12, 30)) == 2
    assert days_from_birthday(date(2027, 2, 28), date(2000, 2, 29)) == 0

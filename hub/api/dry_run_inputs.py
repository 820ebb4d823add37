"""The proposed change a dry run prices, and the bounds its values keep."""

from __future__ import annotations

from decimal import Decimal

import strawberry
from graphql import GraphQLError
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.rule_inputs import PromotionInput, TierInput
from hub.ids import InvalidGlobalId, decode_int_id
from ledger.promotion_rules import PromotionKind, PromotionRule

MAX_POINTS_PER_100 = 100_000
MAX_TIERS = 20
MAX_ADDED_PROMOTIONS = 50
MAX_LIST = 1_000
MAX_MULTIPLIER = Decimal(100)
MAX_BONUS = Decimal(1_000_000)
MAX_BIRTHDAY_WINDOW = 183
MAX_NTH_PURCHASE = 10_000


@strawberry.input(
    description="A proposed change to the programme; what is not given stays as today."
)
class RuleChangeInput:
    points_per_100_yuan: int | None = strawberry.field(
        default=None, name="pointsPer100Yuan", description="Base earning: points per 100 yuan."
    )
    tiers: list[TierInput] | None = strawberry.field(
        default=None, description="The whole tier ladder, replacing today's."
    )
    add_promotions: list[PromotionInput] | None = strawberry.field(
        default=None, description="Promotions added to today's."
    )
    remove_promotion_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="Promotions of today's taken out."
    )

    def removed_ids(self) -> list[str]:
        """Today's promotion keys the change takes out (INVALID_INPUT for a foreign ID)."""
        keys: list[str] = []
        for index, value in enumerate(self.remove_promotion_ids or ()):
            try:
                keys.append(str(decode_int_id(str(value), "Promotion")))
            except InvalidGlobalId:
                raise invalid(
                    f"{value!r} is not a Promotion ID", f"removePromotionIds.{index}"
                ) from None
        return keys


def invalid(message: str, field: str) -> GraphQLError:
    return GraphQLError(
        message, extensions={"code": "INVALID_INPUT", "field": ["change", *field.split(".")]}
    )


def _within(values: list[int] | None, low: int, high: int, field: str) -> None:
    if values is not None and (len(values) > 31 or any(not low <= v <= high for v in values)):
        raise invalid(f"{field} takes values from {low} to {high}", field)


def _check_tiers(tiers: list[TierInput]) -> None:
    if not 1 <= len(tiers) <= MAX_TIERS:
        raise invalid(f"a ladder has 1 to {MAX_TIERS} tiers", "tiers")
    codes = [t.code.strip() for t in tiers]
    if any(not c for c in codes) or len(set(codes)) != len(codes):
        raise invalid("tier codes must be given and differ", "tiers")
    if tiers[0].threshold != 0:
        raise invalid("the lowest tier's threshold is 0", "tiers.0.threshold")
    for index, tier in enumerate(tiers):
        if tier.threshold < 0:
            raise invalid("a threshold is not negative", f"tiers.{index}.threshold")
        if not 0 <= tier.multiplier <= MAX_MULTIPLIER:
            raise invalid(
                f"a multiplier lies in 0 to {MAX_MULTIPLIER}", f"tiers.{index}.multiplier"
            )
        if tier.pay_percent is not None and not 0 < tier.pay_percent <= 100:
            raise invalid("payPercent lies in (0, 100]", f"tiers.{index}.payPercent")
        if index and tier.threshold < tiers[index - 1].threshold:
            raise invalid("tiers go lowest first", f"tiers.{index}.threshold")


def _check_promotion(promotion: PromotionInput, field: str) -> None:
    if not promotion.name.strip():
        raise invalid("a promotion has a name", f"{field}.name")
    kind = PromotionKind(promotion.kind)
    if kind is PromotionKind.MULTIPLIER and not 1 < promotion.value <= MAX_MULTIPLIER:
        raise invalid(f"a multiplier lies in (1, {MAX_MULTIPLIER}]", f"{field}.value")
    if kind is PromotionKind.BONUS_POINTS and not 1 <= promotion.value <= MAX_BONUS:
        raise invalid(f"bonus points lie in 1 to {MAX_BONUS}", f"{field}.value")
    _within(promotion.days_of_month, 1, 31, f"{field}.daysOfMonth")
    _within(promotion.days_of_week, 1, 7, f"{field}.daysOfWeek")
    window = promotion.birthday_window_days
    if window is not None and not 0 <= window <= MAX_BIRTHDAY_WINDOW:
        raise invalid(f"birthdayWindowDays lies in 0 to {MAX_BIRTHDAY_WINDOW}", field)
    nth = promotion.nth_purchase
    if nth is not None and not 1 <= nth <= MAX_NTH_PURCHASE:
        raise invalid(f"nthPurchase lies in 1 to {MAX_NTH_PURCHASE}", f"{field}.nthPurchase")
    for name in ("tier_codes", "categories", "skus", "channels", "store_ids"):
        if len(getattr(promotion, name) or ()) > MAX_LIST:
            raise invalid(f"a condition lists at most {MAX_LIST} values", field)
    if promotion.starts_at.tzinfo is None or (
        promotion.ends_at is not None
        and (promotion.ends_at.tzinfo is None or promotion.ends_at <= promotion.starts_at)
    ):
        raise invalid("a promotion ends after it starts, both with a zone", f"{field}.endsAt")


def check_change(change: RuleChangeInput) -> None:
    """INVALID_INPUT for a value no programme could hold."""
    rate = change.points_per_100_yuan
    if rate is not None and not 0 <= rate <= MAX_POINTS_PER_100:
        raise invalid(f"pointsPer100Yuan lies in 0 to {MAX_POINTS_PER_100}", "pointsPer100Yuan")
    if change.tiers is not None:
        _check_tiers(change.tiers)
    added = change.add_promotions or []
    if len(added) > MAX_ADDED_PROMOTIONS:
        raise invalid(f"at most {MAX_ADDED_PROMOTIONS} promotions", "addPromotions")
    for index, promotion in enumerate(added):
        _check_promotion(promotion, f"addPromotions.{index}")
    change.removed_ids()


async def proposed_promotions(
    session: AsyncSession, change: RuleChangeInput
) -> tuple[PromotionRule, ...]:
    """The added promotions as rules (IDs ``proposed-<n>``); a segment they name must exist."""
    segments: dict[int, str] = {}
    for index, promotion in enumerate(change.add_promotions or ()):
        if promotion.segment_id is None:
            continue
        try:
            segments[index] = str(decode_int_id(str(promotion.segment_id), "Segment"))
        except InvalidGlobalId:
            raise invalid("not a Segment ID", f"addPromotions.{index}.segmentId") from None
    if segments:
        known = set(
            (
                await session.execute(
                    text("SELECT id FROM segments WHERE id = ANY(CAST(:ids AS bigint[]))"),
                    {"ids": [int(s) for s in segments.values()]},
                )
            ).scalars()
        )
        for index, key in segments.items():
            if int(key) not in known:
                raise invalid("no such segment", f"addPromotions.{index}.segmentId")
    return tuple(
        promotion.to_rule(id=f"proposed-{index + 1}", segment_id=segments.get(index))
        for index, promotion in enumerate(change.add_promotions or ())
    )

"""The inputs that describe earning rules: a promotion and a tier of the ladder.

Defining a promotion or the ladder and proposing them to the dry run take the same inputs
and turn them into the same rules (``ledger.promotion_rules``), so what the dry run shows
is what defining them would do.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from hub.api.member_types import Channel
from ledger import promotion_rules as rules

PromotionKind = strawberry.enum(rules.PromotionKind, name="PromotionKind")


@strawberry.input(description="When a promotion applies: every condition that is set must hold.")
class PromotionInput:
    name: str
    kind: PromotionKind
    value: Decimal
    days_of_month: list[int] | None = strawberry.field(
        default=None, description="Member day: days of the month, e.g. [8]."
    )
    days_of_week: list[int] | None = strawberry.field(
        default=None, description="ISO weekdays, 1 = Monday."
    )
    birthday_window_days: int | None = strawberry.field(
        default=None,
        description=(
            "A purchase within this many days of the member's birthday, either side"
            " (0 = on the day)."
        ),
    )
    tier_codes: list[str] | None = None
    segment_id: strawberry.ID | None = None
    categories: list[str] | None = None
    skus: list[str] | None = None
    channels: list[Channel] | None = None  # type: ignore[valid-type]
    store_ids: list[strawberry.ID] | None = None
    nth_purchase: int | None = strawberry.field(
        default=None, description="The member's Nth purchase ever (an accelerator: 2 -> +50%)."
    )
    starts_at: datetime
    ends_at: datetime | None = None
    stackable: bool | None = strawberry.field(
        default=False,
        description="Stackable promotions multiply together; otherwise only the best one applies.",
    )

    def to_rule(self, *, id: str, segment_id: str | None) -> rules.PromotionRule:
        """The rule this input describes; ``segment_id`` is the decoded segment ID."""
        return rules.PromotionRule(
            id=id,
            name=self.name,
            kind=rules.PromotionKind(self.kind),
            value=self.value,
            starts_at=self.starts_at,
            ends_at=self.ends_at,
            days_of_month=tuple(self.days_of_month or ()),
            days_of_week=tuple(self.days_of_week or ()),
            birthday_window_days=self.birthday_window_days,
            tier_codes=tuple(self.tier_codes or ()),
            segment_id=segment_id,
            categories=tuple(self.categories or ()),
            skus=tuple(self.skus or ()),
            channels=tuple(str(c.value) for c in self.channels or ()),
            store_ids=tuple(str(s) for s in self.store_ids or ()),
            nth_purchase=self.nth_purchase,
            stackable=bool(self.stackable),
        )


@strawberry.input
class TierInput:
    code: str
    name: str
    threshold: Decimal = strawberry.field(
        description="Spend over the qualifying window that reaches this tier."
    )
    multiplier: Decimal = strawberry.field(description='Points multiplier, e.g. "1.2".')
    pay_percent: Decimal | None = strawberry.field(
        default=None,
        description="Percent a member of this tier pays at the till (95 = 5% off); null for none.",
    )
    perks: list[str] | None = strawberry.field(
        default=None,
        description="Perks shown to the cashier and in the mini-program, e.g. 专属客服.",
    )

    def to_rule(self) -> rules.TierRule:
        return rules.TierRule(
            code=self.code,
            name=self.name,
            threshold=self.threshold,
            multiplier=self.multiplier,
            pay_percent=self.pay_percent,
            perks=tuple(self.perks or ()),
        )

"""Earning promotions and the tier ladder, changed at run time.

Operators (``admin``) define and end promotions and replace the ladder; each change applies
to the next purchase recorded through any hub process (``ledger.rule_store``). Reading the
promotions takes ``members:read``.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from hub.api.intelligence_types import SegmentObject, segment_object
from hub.api.member_types import Channel
from hub.api.node import Node, node_loader
from hub.api.purchase_types import TierDefinitionObject, tier_definition
from hub.api.rule_inputs import PromotionInput, PromotionKind, TierInput
from hub.api.tier_ladder import current_programme
from hub.errors import UserError, to_user_error
from hub.http.permissions import ForbiddenError, allowed, requires
from hub.http.principal import Scope
from hub.ids import InvalidGlobalId, decode_int_id, encode_id
from ledger import rule_store
from ledger.errors import LedgerError
from sync.tiers import TierProgramme


@strawberry.type(name="Promotion")
class PromotionObject(Node):
    record: strawberry.Private[rule_store.StoredPromotion]
    name: str
    kind: PromotionKind  # type: ignore[valid-type]
    value: Decimal
    days_of_month: list[int]
    days_of_week: list[int]
    birthday_window_days: int | None
    tier_codes: list[str]
    categories: list[str]
    skus: list[str]
    channels: list[Channel]  # type: ignore[valid-type]
    store_ids: list[strawberry.ID]
    nth_purchase: int | None
    starts_at: datetime
    ends_at: datetime | None
    stackable: bool

    @strawberry.field
    async def segment(self, info: strawberry.Info) -> SegmentObject | None:
        segment_id = self.record.rule.segment_id
        if segment_id is None:
            return None
        found = await info.context.loaders.segment.load(int(segment_id))
        return None if found is None else segment_object(found)

    @strawberry.field(description="Points this promotion added so far, beyond base points.")
    async def points_awarded(self, info: strawberry.Info) -> int:
        return await info.context.loaders.promotion_points.load(int(self.record.rule.id))


def promotion_object(record: rule_store.StoredPromotion) -> PromotionObject:
    rule = record.rule
    return PromotionObject(
        id=strawberry.ID(encode_id("Promotion", int(rule.id))),
        record=record,
        name=rule.name,
        kind=rule.kind,
        value=rule.value,
        days_of_month=list(rule.days_of_month),
        days_of_week=list(rule.days_of_week),
        birthday_window_days=rule.birthday_window_days,
        tier_codes=list(rule.tier_codes),
        categories=list(rule.categories),
        skus=list(rule.skus),
        channels=[Channel(c) for c in rule.channels],
        store_ids=[strawberry.ID(s) for s in rule.store_ids],
        nth_purchase=rule.nth_purchase,
        starts_at=rule.starts_at,
        ends_at=rule.ends_at,
        stackable=rule.stackable,
    )


@node_loader("Promotion")
async def load_promotion_node(info: strawberry.Info, key: str) -> PromotionObject | None:
    if not key.isdigit():
        return None
    if not allowed(info.context.principal, (Scope.MEMBERS_READ,)):
        raise ForbiddenError("this call needs the scope members:read")
    (found,) = await rule_store.load_promotions(info.context.execute, [int(key)])
    return None if found is None else promotion_object(found)


@strawberry.type
class PromotionPayload:
    promotion: PromotionObject | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class TiersPayload:
    tiers: list[TierDefinitionObject] = strawberry.field(default_factory=list)
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def tier_objects(programme: TierProgramme) -> list[TierDefinitionObject]:
    return [tier_definition(programme, tier) for tier in programme.tiers]


@strawberry.type
class PromotionQuery:
    @strawberry.field(
        description="Every promotion, or those running at `activeAt`; by start, then ID."
    )
    @requires(Scope.MEMBERS_READ)
    async def promotions(
        self, info: strawberry.Info, active_at: datetime | None = None
    ) -> list[PromotionObject]:
        found = await rule_store.promotions_active(info.context.execute, active_at)
        return [promotion_object(p) for p in found]

    @strawberry.field(description="The programme's tiers, lowest first.")
    async def tiers(self, info: strawberry.Info) -> list[TierDefinitionObject]:
        return tier_objects(await current_programme(info))


@strawberry.type
class PromotionMutation:
    @strawberry.mutation(
        description="A promotion, applied to every purchase recorded from now that it matches."
    )
    @requires(Scope.ADMIN)
    async def define_promotion(
        self, info: strawberry.Info, input: PromotionInput
    ) -> PromotionPayload:
        context = info.context
        try:
            segment = (
                str(decode_int_id(input.segment_id, "Segment"))
                if input.segment_id is not None
                else None
            )
            rule = input.to_rule(id="0", segment_id=segment)
            stored = await context.transact(
                lambda s: rule_store.define_promotion(
                    s, rule, now=context.now(), by=context.principal.name
                )
            )
        except InvalidGlobalId as error:
            return PromotionPayload(
                user_errors=[to_user_error(error, field_prefix=("input", "segmentId"))]
            )
        except LedgerError as error:
            return PromotionPayload(user_errors=[to_user_error(error, field_prefix=("input",))])
        return PromotionPayload(promotion=promotion_object(stored))

    @strawberry.mutation(
        description="End a promotion now; purchases recorded after earn without it."
    )
    @requires(Scope.ADMIN)
    async def end_promotion(self, info: strawberry.Info, id: strawberry.ID) -> PromotionPayload:
        context = info.context
        try:
            promotion_id = decode_int_id(id, "Promotion")
            stored = await context.transact(
                lambda s: rule_store.end_promotion(s, promotion_id, now=context.now())
            )
        except InvalidGlobalId as error:
            return PromotionPayload(user_errors=[to_user_error(error, field_prefix=("id",))])
        except LedgerError as error:
            return PromotionPayload(user_errors=[to_user_error(error)])
        return PromotionPayload(promotion=promotion_object(stored))

    @strawberry.mutation(
        description=(
            "Replace the tier ladder; upgrades apply at once, downgrades at the next review."
        )
    )
    @requires(Scope.ADMIN)
    async def define_tiers(self, info: strawberry.Info, tiers: list[TierInput]) -> TiersPayload:
        context = info.context
        ladder = [t.to_rule() for t in tiers]
        try:
            await context.transact(lambda s: rule_store.define_tiers(s, ladder, now=context.now()))
        except LedgerError as error:
            return TiersPayload(user_errors=[to_user_error(error)])
        return TiersPayload(tiers=tier_objects(await current_programme(info)))

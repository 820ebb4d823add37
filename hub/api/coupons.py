"""Coupons and rewards: templates, issuing, the rewards catalogue, quotes at the till.

Operators (``admin`` or ``coupons:write``) define templates, issue and void coupons. A
member exchanges points for a reward with its own token, or a till (``points:write``)
does it for them. Quotes read only: they redeem nothing.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry
from graphql import GraphQLError

from hub.api.coupon_types import (
    CouponKind,
    CouponObject,
    CouponQuote,
    CouponTemplateObject,
    coupon_object,
    quote_object,
    template_object,
)
from hub.api.member_types import Channel
from hub.api.points import key_scope
from hub.api.purchases import PurchaseItemInput
from hub.errors import UserError, to_user_error
from hub.http.permissions import ForbiddenError, requires
from hub.http.principal import ClientKind, Principal, Scope
from hub.ids import InvalidGlobalId, decode_int_id
from hub.wiring import ledger_config
from ledger import model as ledger_model
from ledger.benefits import model
from ledger.benefits.codes import normalise_code
from ledger.benefits.errors import BenefitsError
from ledger.benefits.issuing import issue_coupons
from ledger.benefits.lifecycle import void_coupon
from ledger.benefits.queries import coupons_by_code, load_coupons
from ledger.benefits.rewards import exchange_reward
from ledger.benefits.rules import Basket, BasketLine, quote_all
from ledger.benefits.templates import (
    deactivate_template,
    define_template,
    list_templates,
)
from ledger.errors import LedgerError

MAX_QUOTED_CODES = 20

#: The channel a reward's redemption is recorded on, by who asks for it.
_CHANNEL_OF: dict[ClientKind, ledger_model.Channel] = {
    ClientKind.MEMBER: ledger_model.Channel.MINI_PROGRAM,
    ClientKind.FRONTEND: ledger_model.Channel.WEB,
    ClientKind.POS: ledger_model.Channel.POS,
    ClientKind.PARTNER: ledger_model.Channel.PARTNER,
    ClientKind.ADMIN: ledger_model.Channel.ADMIN,
}


@strawberry.input
class CouponTemplateInput:
    code: str
    name: str
    kind: CouponKind
    value: Decimal | None = None
    min_spend: Decimal | None = None
    categories: list[str] | None = None
    channels: list[Channel] | None = None
    store_ids: list[strawberry.ID] | None = None
    valid_days: int
    valid_from: datetime | None = strawberry.field(
        default=None, description="Fixed first day: coupons are usable from then at the earliest."
    )
    valid_until: datetime | None = strawberry.field(
        default=None, description="Fixed last day: no coupon is usable after it."
    )
    stock: int | None = None
    per_member_limit: int | None = None
    points_price: int | None = None

    def to_spec(self) -> model.TemplateSpec:
        return model.TemplateSpec(
            code=self.code,
            name=self.name,
            kind=model.CouponKind(self.kind.value),
            value=self.value,
            min_spend=self.min_spend,
            categories=tuple(self.categories or ()),
            channels=tuple(c.value for c in self.channels or ()),
            store_ids=tuple(str(s) for s in self.store_ids or ()),
            valid_days=self.valid_days,
            valid_from=self.valid_from,
            valid_until=self.valid_until,
            stock=self.stock,
            per_member_limit=self.per_member_limit,
            points_price=self.points_price,
        )


@strawberry.type
class CouponTemplatePayload:
    template: CouponTemplateObject | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input(description="Exactly one of memberIds and segmentId.")
class IssueCouponsInput:
    template_id: strawberry.ID
    member_ids: list[strawberry.ID] | None = None
    segment_id: strawberry.ID | None = None
    reason: str
    idempotency_key: str


@strawberry.type
class IssueCouponsPayload:
    replayed: bool = False
    issued: int = strawberry.field(default=0, description="Coupons issued now.")
    skipped: int = strawberry.field(
        default=0, description="Members skipped: over perMemberLimit, out of stock, not active."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class ExchangeRewardInput:
    member_id: strawberry.ID
    template_id: strawberry.ID
    idempotency_key: str


@strawberry.type
class CouponPayload:
    replayed: bool = False
    coupon: CouponObject | None = None
    points_spent: int | None = strawberry.field(
        default=None, description="Points debited for a reward."
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _errors(error: Exception) -> list[UserError]:
    return [to_user_error(error, field_prefix=("input",))]


async def _coupon(info: strawberry.Info, coupon_id: int) -> CouponObject:
    (found,) = await load_coupons(info.context.execute, [coupon_id])
    assert found is not None
    return coupon_object(found, info.context.now())


@strawberry.type
class CouponQuery:
    @strawberry.field
    @requires(Scope.MEMBERS_READ)
    async def coupon_templates(
        self, info: strawberry.Info, active_only: bool | None = True
    ) -> list[CouponTemplateObject]:
        found = await list_templates(info.context.execute, active_only=active_only is not False)
        return [template_object(t) for t in found]

    @strawberry.field(description="The rewards catalogue: templates with a points price, in stock.")
    async def rewards(self, info: strawberry.Info) -> list[CouponTemplateObject]:
        found = await list_templates(info.context.execute, active_only=True, rewards_only=True)
        return [template_object(t) for t in found]

    @strawberry.field(
        description=(
            "What the coupons would give on this basket, before the till takes payment;"
            " redeems nothing. Codes the hub does not know are left out."
        )
    )
    @requires(Scope.MEMBERS_READ, self_member="member_id")
    async def quote_coupons(
        self,
        info: strawberry.Info,
        member_id: strawberry.ID,
        codes: list[str],
        store_id: strawberry.ID,
        channel: Channel,
        amount: Decimal,
        items: list[PurchaseItemInput] | None = None,
    ) -> list[CouponQuote]:
        principal: Principal = info.context.principal
        if (
            principal.kind is ClientKind.POS
            and not principal.is_admin
            and str(store_id) != principal.store_id
        ):
            raise ForbiddenError("a POS client may quote only at its own store")
        try:
            member = decode_int_id(member_id, "Member")
        except InvalidGlobalId as error:
            raise GraphQLError(str(error), extensions={"code": "INVALID_INPUT"}) from None
        if len(codes) > MAX_QUOTED_CODES:
            raise GraphQLError(
                f"at most {MAX_QUOTED_CODES} codes", extensions={"code": "INVALID_INPUT"}
            )
        if amount < 0 or any(i.quantity <= 0 or i.unit_price < 0 for i in items or ()):
            raise GraphQLError(
                "amounts and quantities must not be negative", extensions={"code": "INVALID_INPUT"}
            )
        wanted = list(dict.fromkeys(normalise_code(c) for c in codes))
        found = await coupons_by_code(info.context.execute, wanted)
        coupons = [found[c] for c in wanted if c in found]
        templates = await info.context.loaders.coupon_template.load_many(
            [c.template_id for c in coupons]
        )
        basket = Basket(
            member_id=member,
            store_id=str(store_id),
            channel=channel.value,
            amount=amount,
            lines=tuple(
                BasketLine(i.sku, i.category, i.quantity, i.unit_price) for i in items or ()
            ),
        )
        now = info.context.now()
        quotes = quote_all(list(zip(coupons, templates, strict=True)), basket, now)
        return [quote_object(c, q, now) for c, q in zip(coupons, quotes, strict=True)]


@strawberry.type
class CouponMutation:
    @strawberry.mutation
    @requires(Scope.COUPONS_WRITE)
    async def define_coupon_template(
        self, info: strawberry.Info, input: CouponTemplateInput
    ) -> CouponTemplatePayload:
        context = info.context
        spec = input.to_spec()
        try:
            template = await context.transact(
                lambda s: define_template(
                    session=s, spec=spec, actor=context.principal.name, now=context.now()
                ),
            )
        except BenefitsError as error:
            return CouponTemplatePayload(user_errors=_errors(error))
        return CouponTemplatePayload(template=template_object(template))

    @strawberry.mutation
    @requires(Scope.COUPONS_WRITE)
    async def deactivate_coupon_template(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> CouponTemplatePayload:
        context = info.context
        try:
            template_id = decode_int_id(id, "CouponTemplate")
            template = await context.transact(
                lambda s: deactivate_template(session=s, template_id=template_id)
            )
        except (InvalidGlobalId, BenefitsError) as error:
            return CouponTemplatePayload(user_errors=[to_user_error(error)])
        return CouponTemplatePayload(template=template_object(template))

    @strawberry.mutation
    @requires(Scope.COUPONS_WRITE)
    async def issue_coupons(
        self, info: strawberry.Info, input: IssueCouponsInput
    ) -> IssueCouponsPayload:
        context = info.context
        try:
            template_id = decode_int_id(input.template_id, "CouponTemplate")
            member_ids = (
                [decode_int_id(m, "Member") for m in input.member_ids]
                if input.member_ids is not None
                else None
            )
            segment_id = (
                decode_int_id(input.segment_id, "Segment") if input.segment_id is not None else None
            )
        except InvalidGlobalId as error:
            return IssueCouponsPayload(user_errors=_errors(error))
        try:
            result = await context.transact(
                lambda s: issue_coupons(
                    session=s,
                    template_id=template_id,
                    member_ids=member_ids,
                    segment_id=segment_id,
                    reason=input.reason,
                    key_scope=key_scope(context.principal),
                    key=input.idempotency_key,
                    actor=context.principal.name,
                    now=context.now(),
                ),
            )
        except BenefitsError as error:
            return IssueCouponsPayload(user_errors=_errors(error))
        return IssueCouponsPayload(
            replayed=result.replayed, issued=result.issued, skipped=result.skipped
        )

    @strawberry.mutation(
        description="Points for a reward from the catalogue: one transaction, idempotent."
    )
    @requires(Scope.POINTS_WRITE, self_member="input.member_id")
    async def exchange_reward(
        self, info: strawberry.Info, input: ExchangeRewardInput
    ) -> CouponPayload:
        context = info.context
        principal: Principal = context.principal
        try:
            member_id = decode_int_id(input.member_id, "Member")
            template_id = decode_int_id(input.template_id, "CouponTemplate")
        except InvalidGlobalId as error:
            return CouponPayload(user_errors=_errors(error))
        store_id = principal.store_id if principal.kind is ClientKind.POS else None
        try:
            result = await context.transact(
                lambda s: exchange_reward(
                    session=s,
                    member_id=member_id,
                    template_id=template_id,
                    channel=_CHANNEL_OF[principal.kind],
                    store_id=store_id,
                    key_scope=key_scope(principal),
                    key=input.idempotency_key,
                    actor=principal.name,
                    now=context.now(),
                    config=ledger_config(context.settings),
                ),
            )
        except (BenefitsError, LedgerError) as error:
            return CouponPayload(user_errors=_errors(error))
        return CouponPayload(
            replayed=result.replayed,
            coupon=await _coupon(info, result.coupon_id),
            points_spent=result.points_spent,
        )

    @strawberry.mutation
    @requires(Scope.COUPONS_WRITE)
    async def void_coupon(
        self, info: strawberry.Info, id: strawberry.ID, reason: str
    ) -> CouponPayload:
        context = info.context
        try:
            coupon_id = decode_int_id(id, "Coupon")
            coupon = await context.transact(
                lambda s: void_coupon(
                    session=s,
                    coupon_id=coupon_id,
                    reason=reason,
                    actor=context.principal.name,
                    now=context.now(),
                ),
            )
        except (InvalidGlobalId, BenefitsError) as error:
            return CouponPayload(user_errors=[to_user_error(error)])
        return CouponPayload(coupon=coupon_object(coupon, context.now()))

"""GraphQL types of benefits: CouponTemplate, Coupon, their connection and quotes.

Every field that reaches beyond the object reads through a dataloader (templates, members,
wallets, statistics), so a list of members with their wallets costs a few queries.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from hub.api.enums import CouponStatus
from hub.api.member_types import Channel, MemberObject, may_read_member, member_object
from hub.api.node import Node, node_loader
from hub.api.pagination import (
    Connection,
    Edge,
    PageInfo,
    check_page_size,
    decode_cursor,
    encode_cursor,
)
from hub.api.purchase_types import PurchaseObject, purchase_object
from hub.http.permissions import ForbiddenError, require_scope
from hub.http.principal import Scope
from hub.ids import encode_id
from identity import model as identity_model
from identity.records import MemberRecord
from ledger.benefits import model
from ledger.benefits.queries import WalletQuery
from ledger.benefits.rules import Quote

CouponKind = strawberry.enum(model.CouponKind, name="CouponKind")

CURSOR_KIND = "Coupon"


@strawberry.type
class CouponStats:
    issued: int
    redeemed: int
    expired: int
    redemption_rate: float | None = strawberry.field(
        description="redeemed / issued, null before any issue."
    )
    revenue: Decimal = strawberry.field(
        description=(
            "Sum of the purchase amounts the coupons were used on (0 until purchases"
            " redeem coupons)."
        )
    )


@strawberry.type(name="CouponTemplate")
class CouponTemplateObject(Node):
    template: strawberry.Private[model.CouponTemplate]
    code: str = strawberry.field(description="The operator's handle, unique, e.g. BDAY-50.")
    name: str
    kind: CouponKind
    value: Decimal | None = strawberry.field(
        description=(
            "Yuan off (CASH_OFF), percent to pay (PERCENT_OFF), multiplier"
            " (POINTS_MULTIPLIER); null otherwise."
        )
    )
    min_spend: Decimal | None
    categories: list[str] = strawberry.field(description="Empty: the whole basket.")
    channels: list[Channel] = strawberry.field(description="Empty: every channel.")
    store_ids: list[strawberry.ID] = strawberry.field(description="Empty: every store.")
    valid_days: int = strawberry.field(
        description="A coupon is valid this many days from its issue."
    )
    valid_from: datetime | None = strawberry.field(
        description="Coupons are usable from this moment at the earliest."
    )
    valid_until: datetime | None = strawberry.field(
        description="No coupon of the template is usable after this moment."
    )
    stock: int | None = strawberry.field(description="Coupons left to issue; null is unlimited.")
    per_member_limit: int | None = strawberry.field(
        description=(
            "At most this many live (unredeemed, unexpired) coupons of this template per"
            " member; null is unlimited."
        )
    )
    points_price: int | None = strawberry.field(
        description=(
            "When set, a member may exchange this many points for one (the rewards catalogue)."
        )
    )
    active: bool

    @strawberry.field
    async def stats(self, info: strawberry.Info) -> CouponStats:
        require_scope(info, Scope.MEMBERS_READ)
        found = await info.context.loaders.coupon_template_stats.load(
            (self.template.id, info.context.now())
        )
        return CouponStats(
            issued=found.issued,
            redeemed=found.redeemed,
            expired=found.expired,
            redemption_rate=found.redemption_rate,
            revenue=found.revenue,
        )


def template_object(template: model.CouponTemplate) -> CouponTemplateObject:
    return CouponTemplateObject(
        id=strawberry.ID(encode_id("CouponTemplate", template.id)),
        template=template,
        code=template.code,
        name=template.name,
        kind=template.kind,
        value=template.value,
        min_spend=template.min_spend,
        categories=list(template.categories),
        channels=[identity_model.Channel(c) for c in template.channels],
        store_ids=[strawberry.ID(s) for s in template.store_ids],
        valid_days=template.valid_days,
        valid_from=template.valid_from,
        valid_until=template.valid_until,
        stock=template.stock,
        per_member_limit=template.per_member_limit,
        points_price=template.points_price,
        active=template.active,
    )


@strawberry.type(name="Coupon")
class CouponObject(Node):
    coupon: strawberry.Private[model.Coupon]
    code: str = strawberry.field(
        description="Shown to the cashier or scanned at the till; unguessable, single use."
    )
    status: CouponStatus
    source: str = strawberry.field(
        description="Why it was issued: MANUAL, REWARD, BIRTHDAY, REFERRAL or CAMPAIGN."
    )
    issued_at: datetime
    valid_until: datetime
    redeemed_at: datetime | None

    @strawberry.field
    async def template(self, info: strawberry.Info) -> CouponTemplateObject:
        found = await info.context.loaders.coupon_template.load(self.coupon.template_id)
        return template_object(found)

    @strawberry.field
    async def member(self, info: strawberry.Info) -> MemberObject:
        return member_object(await info.context.loaders.member.load(self.coupon.member_id))

    @strawberry.field(description="The purchase it was used on.")
    async def redeemed_purchase(self, info: strawberry.Info) -> PurchaseObject | None:
        if self.coupon.redeemed_purchase_id is None:
            return None
        found = await info.context.loaders.purchase.load(self.coupon.redeemed_purchase_id)
        return None if found is None else purchase_object(found)


def coupon_object(coupon: model.Coupon, now: datetime) -> CouponObject:
    return CouponObject(
        id=strawberry.ID(encode_id("Coupon", coupon.id)),
        coupon=coupon,
        code=coupon.code,
        status=coupon.status_at(now),
        source=coupon.source.value,
        issued_at=coupon.issued_at,
        valid_until=coupon.valid_until,
        redeemed_at=coupon.redeemed_at,
    )


CouponEdge = Edge[CouponObject]


@strawberry.type
class CouponConnection(Connection[CouponObject]):
    total_count: int


async def member_coupons(
    info: strawberry.Info,
    record: MemberRecord,
    status: model.CouponStatus | None,
    first: int,
    after: str | None,
) -> CouponConnection:
    """``Member.coupons``: the wallet, newest first, batched across members."""
    check_page_size(first)
    now = info.context.now()
    query = WalletQuery(
        status=status,
        first=first,
        before_id=decode_cursor(after, CURSOR_KIND) if after is not None else None,
        # Whole seconds: sibling members batch into one query with one key.
        now=now.replace(microsecond=0),
    )
    page = await info.context.loaders.coupon_wallet.load((record.id, query))
    edges = [
        CouponEdge(node=coupon_object(c, now), cursor=encode_cursor(CURSOR_KIND, c.id))
        for c in page.coupons
    ]
    return CouponConnection(
        edges=edges,
        page_info=PageInfo(
            has_next_page=page.has_next, end_cursor=edges[-1].cursor if edges else None
        ),
        total_count=page.total,
    )


@strawberry.type(
    description="What a coupon gives on one purchase, worked out before the till takes payment."
)
class CouponQuote:
    coupon: CouponObject
    usable: bool
    discount: Decimal = strawberry.field(
        description="Yuan off the purchase (0 for gifts and points multipliers)."
    )
    reason: str | None = strawberry.field(
        description=(
            "Why it is not usable: EXPIRED, USED, VOID, NOT_YET_VALID, MIN_SPEND, CATEGORY,"
            " CHANNEL, STORE, NOT_OWNER."
        )
    )


def quote_object(coupon: model.Coupon, quote: Quote, now: datetime) -> CouponQuote:
    return CouponQuote(
        coupon=coupon_object(coupon, now),
        usable=quote.usable,
        discount=quote.discount,
        reason=quote.reason.value if quote.reason is not None else None,
    )


@node_loader("Coupon")
async def load_coupon_node(info: strawberry.Info, key: str) -> CouponObject | None:
    if not key.isdigit():
        return None
    found = await info.context.loaders.coupon.load(int(key))
    if found is None:
        return None
    if not may_read_member(info.context.principal, found.member_id):
        raise ForbiddenError("this call needs the scope members:read")
    return coupon_object(found, info.context.now())


@node_loader("CouponTemplate")
async def load_template_node(info: strawberry.Info, key: str) -> CouponTemplateObject | None:
    if not key.isdigit():
        return None
    found = await info.context.loaders.coupon_template.load(int(key))
    return None if found is None else template_object(found)

"""GraphQL types of purchases, member stats, tiers and fraud reviews."""

from __future__ import annotations

import enum
from datetime import datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.api.enums import Channel
from hub.api.intelligence_types import CountByKey
from hub.api.node import Node, node_loader
from hub.api.pagination import Connection, Edge
from hub.http.permissions import ForbiddenError, allowed
from hub.http.principal import Principal, Scope
from hub.ids import encode_id
from ledger import reviews
from ledger.model import add_months
from sync.purchases.records import PurchaseItemRecord, PurchaseRecord
from sync.tiers import TierDefinition as TierRule
from sync.tiers import TierProgramme

if TYPE_CHECKING:
    from hub.api.member_types import MemberObject

MemberRef = Annotated["MemberObject", strawberry.lazy("hub.api.member_types")]


@strawberry.enum
class PurchaseStatus(enum.Enum):
    COMPLETED = "COMPLETED"
    PARTIALLY_REFUNDED = "PARTIALLY_REFUNDED"
    REFUNDED = "REFUNDED"
    HELD = strawberry.enum_value("HELD", description="Points held for fraud review.")
    REJECTED = "REJECTED"


ReviewStatus = strawberry.enum(reviews.ReviewStatus, name="ReviewStatus")
ReviewDecision = strawberry.enum(reviews.ReviewDecision, name="ReviewDecision")


async def _member(info: strawberry.Info, member_id: int | None) -> MemberObject | None:
    from hub.api.member_types import member_object

    if member_id is None:
        return None
    found = await info.context.loaders.member.load(member_id)
    return None if found is None else member_object(found)


@strawberry.type(name="PurchaseItem")
class PurchaseItemObject:
    sku: str
    category: str | None
    quantity: int
    unit_price: Decimal


def item_object(record: PurchaseItemRecord) -> PurchaseItemObject:
    return PurchaseItemObject(
        sku=record.sku,
        category=record.category,
        quantity=record.quantity,
        unit_price=record.unit_price,
    )


@strawberry.type(name="Purchase")
class PurchaseObject(Node):
    record: strawberry.Private[PurchaseRecord]
    channel: Channel
    store_id: strawberry.ID
    receipt_no: str
    amount: Decimal
    refunded_amount: Decimal
    occurred_at: datetime
    recorded_at: datetime
    points_earned: int
    status: PurchaseStatus

    @strawberry.field
    async def member(self, info: strawberry.Info) -> MemberRef | None:
        return await _member(info, self.record.member_id)

    @strawberry.field
    async def items(self, info: strawberry.Info) -> list[PurchaseItemObject]:
        return [
            item_object(r) for r in await info.context.loaders.purchase_items.load(self.record.id)
        ]

    @strawberry.field(description="Points by cause: BASE, TIER, PROMOTION:<name>, COUPON:<code>.")
    async def points_breakdown(self, info: strawberry.Info) -> list[CountByKey]:
        lines = await info.context.loaders.purchase_breakdown.load(self.record.id)
        return [CountByKey(key=cause, count=points) for cause, points in lines]


def purchase_object(record: PurchaseRecord) -> PurchaseObject:
    return PurchaseObject(
        id=strawberry.ID(encode_id("Purchase", record.id)),
        record=record,
        channel=Channel(record.channel),
        store_id=strawberry.ID(record.store_id),
        receipt_no=record.receipt_no,
        amount=record.amount,
        refunded_amount=record.refunded_amount,
        occurred_at=record.occurred_at,
        recorded_at=record.recorded_at,
        points_earned=record.points_earned,
        status=PurchaseStatus(record.status),
    )


def may_see_purchase(principal: Principal, record: PurchaseRecord) -> bool:
    if allowed(principal, (Scope.MEMBERS_READ,)):
        return True
    return record.member_id is not None and principal.member_id == record.member_id


@node_loader("Purchase")
async def load_purchase_node(info: strawberry.Info, key: str) -> PurchaseObject | None:
    if not key.isdigit():
        return None
    found = await info.context.loaders.purchase.load(int(key))
    if found is None:
        return None
    if not may_see_purchase(info.context.principal, found):
        raise ForbiddenError("this call needs the scope members:read")
    return purchase_object(found)


PurchaseEdge = Edge[PurchaseObject]


@strawberry.type
class PurchaseConnection(Connection[PurchaseObject]):
    """A page of Purchase edges."""


@strawberry.type
class MemberStats:
    order_count: int
    total_spend: Decimal
    average_order_value: Decimal | None
    spend_last_12_months: Decimal
    first_purchase_at: datetime | None
    last_purchase_at: datetime | None


@strawberry.type(name="TierDefinition")
class TierDefinitionObject:
    code: str
    name: str
    rank: int
    qualifying_spend: Decimal = strawberry.field(
        description="Spend over the rolling qualifying window that reaches this tier."
    )
    points_multiplier: Decimal
    pay_percent: Decimal | None = strawberry.field(
        default=None, description="Percent a member of this tier pays at the till (95 = 5% off)."
    )
    perks: list[str] = strawberry.field(default_factory=list)


def tier_definition(programme: TierProgramme, tier: TierRule) -> TierDefinitionObject:
    return TierDefinitionObject(
        code=tier.code,
        name=tier.name,
        rank=programme.rank(tier.code),
        qualifying_spend=tier.qualifying_spend,
        points_multiplier=tier.multiplier,
        pay_percent=tier.pay_percent,
        perks=list(tier.perks),
    )


@strawberry.type
class MemberTier:
    code: str
    name: str
    since: datetime
    points_multiplier: Decimal
    pay_percent: Decimal | None = strawberry.field(
        description="Percent the member pays at the till (95 = 5% off); null for none."
    )
    perks: list[str]
    next: TierDefinitionObject | None
    member_id: strawberry.Private[int]
    programme: strawberry.Private[TierProgramme]

    @strawberry.field(description="Spend still needed in the qualifying window to reach `next`.")
    async def spend_to_next(self, info: strawberry.Info) -> Decimal | None:
        if self.next is None:
            return None
        now = info.context.now()
        start = add_months(now, -self.programme.window_months)
        spend = await info.context.loaders.window_spend.load((self.member_id, start, now))
        return max(self.next.qualifying_spend - spend, Decimal("0.00")).quantize(Decimal("0.01"))


@strawberry.type(name="FraudReview")
class FraudReviewObject(Node):
    record: strawberry.Private[reviews.Review]
    status: ReviewStatus
    reasons: list[str]
    summary: str = strawberry.field(
        description="What was held, in words: e.g. 'purchase S001/R-000123, 1,240 points'."
    )
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    note: str | None

    @strawberry.field
    async def member(self, info: strawberry.Info) -> MemberRef | None:
        return await _member(info, self.record.member_id)


def review_object(record: reviews.Review) -> FraudReviewObject:
    return FraudReviewObject(
        id=strawberry.ID(encode_id("FraudReview", record.id)),
        record=record,
        status=record.status,
        reasons=list(record.reasons),
        summary=record.summary,
        created_at=record.created_at,
        decided_at=record.decided_at,
        decided_by=record.decided_by,
        note=record.note,
    )


@node_loader("FraudReview")
async def load_review_node(info: strawberry.Info, key: str) -> FraudReviewObject | None:
    if not key.isdigit():
        return None
    if not info.context.principal.is_admin:
        raise ForbiddenError("fraud reviews are for operators")
    found = await info.context.loaders.fraud_review.load(int(key))
    return None if found is None else review_object(found)


FraudReviewEdge = Edge[FraudReviewObject]


@strawberry.type
class FraudReviewConnection(Connection[FraudReviewObject]):
    """A page of FraudReview edges."""

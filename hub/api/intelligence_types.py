"""GraphQL types of member intelligence: RFM, lifecycle, tags, segments, rules, dashboard."""

from __future__ import annotations

import enum
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Annotated, Any

import strawberry

from hub.api.enums import LifecycleStage as LifecycleStage  # re-exported for other areas
from hub.api.enums import RfmSegment
from hub.api.node import Node, node_loader
from hub.api.pagination import PageInfo, check_page_size, decode_cursor, encode_cursor
from hub.http.permissions import ForbiddenError, allowed
from hub.http.principal import Scope
from hub.ids import encode_id
from sync.intelligence import rules
from sync.intelligence.queries import RfmRecord, SegmentRecord, TagRecord

if TYPE_CHECKING:
    from hub.api.member_types import MemberConnection

ConditionField = strawberry.enum(rules.Field, name="ConditionField")
Operator = strawberry.enum(rules.Operator, name="Operator")


@strawberry.enum
class TagSource(enum.Enum):
    RULE = "RULE"
    MANUAL = "MANUAL"


@strawberry.enum
class SegmentKind(enum.Enum):
    RULE = "RULE"
    RFM = "RFM"
    MANUAL = "MANUAL"


@strawberry.type
class Rfm:
    recency_days: int
    frequency: int
    monetary: Decimal
    r: int = strawberry.field(description="Quintile scores, 5 best.")
    f: int
    m: int
    segment: RfmSegment
    computed_at: datetime


def rfm_object(record: RfmRecord) -> Rfm:
    return Rfm(
        recency_days=record.recency_days,
        frequency=record.frequency,
        monetary=record.monetary,
        r=record.r,
        f=record.f,
        m=record.m,
        segment=RfmSegment(record.segment),
        computed_at=record.computed_at,
    )


@strawberry.type(name="Tag")
class TagObject(Node):
    record: strawberry.Private[TagRecord]
    name: str
    description: str | None
    source: TagSource

    @strawberry.field
    async def member_count(self, info: strawberry.Info) -> int:
        return await info.context.loaders.tag_member_count.load(self.record.id)


def tag_object(record: TagRecord) -> TagObject:
    return TagObject(
        id=strawberry.ID(encode_id("Tag", record.id)),
        record=record,
        name=record.name,
        description=record.description,
        source=TagSource(record.source),
    )


@strawberry.type
class MemberTag:
    tag: TagObject
    source: TagSource
    tagged_at: datetime


@strawberry.type(name="Segment")
class SegmentObject(Node):
    record: strawberry.Private[SegmentRecord]
    name: str
    kind: SegmentKind
    description: str | None
    refreshed_at: datetime | None

    @strawberry.field
    async def member_count(self, info: strawberry.Info) -> int:
        return await info.context.loaders.segment_member_count.load(self.record.id)

    @strawberry.field
    async def members(
        self, info: strawberry.Info, first: int | None = 50, after: str | None = None
    ) -> Annotated[MemberConnection, strawberry.lazy("hub.api.member_types")]:
        from hub.api.member_types import MemberConnection, MemberEdge, member_object

        if not allowed(info.context.principal, (Scope.MEMBERS_READ,)):
            raise ForbiddenError("this call needs the scope members:read")
        size = 50 if first is None else first
        check_page_size(size)
        after_id = decode_cursor(after, "member") if after else 0
        loaders = info.context.loaders
        page = await loaders.segment_page.load((self.record.id, size, after_id))
        members = [m for m in await loaders.member.load_many(page.member_ids) if m is not None]
        edges = [
            MemberEdge(node=member_object(m), cursor=encode_cursor("member", m.id)) for m in members
        ]
        return MemberConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=page.has_next, after=after),
            total_count=await loaders.segment_member_count.load(self.record.id),
        )


def segment_object(record: SegmentRecord) -> SegmentObject:
    return SegmentObject(
        id=strawberry.ID(encode_id("Segment", record.id)),
        record=record,
        name=record.name,
        kind=SegmentKind(record.kind),
        description=record.description,
        refreshed_at=record.refreshed_at,
    )


@node_loader("Tag")
async def load_tag_node(info: strawberry.Info, key: str) -> TagObject | None:
    if not key.isdigit():
        return None
    if not allowed(info.context.principal, (Scope.MEMBERS_READ,)):
        raise ForbiddenError("this call needs the scope members:read")
    found = await info.context.loaders.tag.load(int(key))
    return None if found is None else tag_object(found)


@node_loader("Segment")
async def load_segment_node(info: strawberry.Info, key: str) -> SegmentObject | None:
    if not key.isdigit():
        return None
    if not allowed(info.context.principal, (Scope.MEMBERS_READ,)):
        raise ForbiddenError("this call needs the scope members:read")
    found = await info.context.loaders.segment.load(int(key))
    return None if found is None else segment_object(found)


@strawberry.input
class ConditionInput:
    field: ConditionField
    op: Operator
    values: list[str] = strawberry.field(
        description="Values as strings; BETWEEN takes two, IN one or more."
    )
    within_days: int | None = strawberry.field(
        default=None,
        description="Look-back window for purchase-based fields, e.g. 30 for the last 30 "
        "days; none means all time.",
    )


@strawberry.input
class SegmentRuleInput:
    all: list[SegmentRuleInput] | None = None
    any: list[SegmentRuleInput] | None = None
    not_: SegmentRuleInput | None = strawberry.field(default=None, name="not")
    condition: ConditionInput | None = None


def rule_json(rule: SegmentRuleInput) -> dict[str, Any]:
    """The input as the rule language's JSON (validated by ``rules.parse_rule``)."""
    out: dict[str, Any] = {}
    if rule.all is not None:
        out["all"] = [rule_json(r) for r in rule.all]
    if rule.any is not None:
        out["any"] = [rule_json(r) for r in rule.any]
    if rule.not_ is not None:
        out["not"] = rule_json(rule.not_)
    if rule.condition is not None:
        c = rule.condition
        out["condition"] = {
            "field": c.field.value,
            "op": c.op.value,
            "values": list(c.values),
            "withinDays": c.within_days,
        }
    return out


@strawberry.input
class SegmentInput:
    name: str
    description: str | None = None
    rule: SegmentRuleInput


@strawberry.input
class TagInput:
    name: str
    description: str | None = None
    rule: SegmentRuleInput | None = strawberry.field(
        default=None,
        description="Members matching the rule carry the tag; none means a manual tag.",
    )


@strawberry.type
class CountByKey:
    key: str
    count: int


@strawberry.type
class Dashboard:
    from_: date = strawberry.field(name="from")
    to: date
    members: int
    new_members: int
    active_members: int
    repurchase_rate: float = strawberry.field(
        description="Share of buyers in the period with two or more purchases."
    )
    average_order_value: Decimal | None
    revenue: Decimal
    points_issued: int
    points_redeemed: int
    points_expired: int
    points_outstanding: int = strawberry.field(
        description="Available plus pending points of all members: the programme's liability."
    )
    coupons_issued: int = strawberry.field(description="Coupons issued in the period.")
    coupons_redeemed: int = strawberry.field(
        description="Coupons redeemed in the period (at the store, when one is given)."
    )
    promotion_points: int = strawberry.field(
        description="Points promotions added to the period's purchases (at the store, when one"
        " is given), beyond base and tier points."
    )
    tiers: list[CountByKey]
    rfm: list[CountByKey]
    lifecycle: list[CountByKey]
    channels: list[CountByKey]

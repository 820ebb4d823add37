"""GraphQL types of identity resolution: Member, Identity, Profile, Merge and their enums.

Identity values and profiles are masked here, per caller: ``pii:read`` (admin included) and
the member itself see them in clear, everyone else sees ``138****8000`` and a profile with
nothing personal left in it.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated

import strawberry

from hub.api.campaign_types import (
    CampaignTouchObject,
    ConsentObject,
    member_campaign_touches,
    member_consents,
)
from hub.api.enums import Channel, CouponStatus, LifecycleStage
from hub.api.intelligence_types import MemberTag, Rfm, SegmentObject, rfm_object
from hub.api.member_intelligence_fields import member_lifecycle, member_segments, member_tags
from hub.api.member_purchase_fields import member_purchases, member_stats, member_tier
from hub.api.node import Node, node_loader, node_object
from hub.api.pagination import Connection, Edge
from hub.api.points_types import PointsAccount, member_points
from hub.api.purchase_types import MemberStats, MemberTier, PurchaseConnection
from hub.http.permissions import ForbiddenError, allowed
from hub.http.principal import Principal, Scope
from hub.ids import encode_id
from hub.loading.loaders import Loaded
from identity import model
from identity.records import IdentityRecord, MemberRecord, MergeRecord
from identity.resolve import Outcome

if TYPE_CHECKING:
    from hub.api.coupon_types import CouponConnection

IdentityType = strawberry.enum(model.IdentityType, name="IdentityType")
MemberStatus = strawberry.enum(model.MemberStatus, name="MemberStatus")
Gender = strawberry.enum(model.Gender, name="Gender")
IdentifyOutcome = strawberry.enum(Outcome, name="IdentifyOutcome")


def may_read_member(principal: Principal, member_id: int) -> bool:
    return allowed(principal, (Scope.MEMBERS_READ,)) or principal.member_id == member_id


def sees_in_clear(principal: Principal, member_id: int) -> bool:
    return principal.sees_pii or principal.member_id == member_id


@strawberry.type(name="Identity")
class IdentityObject:
    record: strawberry.Private[IdentityRecord]
    type: IdentityType
    namespace: str | None
    verified: bool
    channel: Channel
    linked_at: datetime
    last_seen_at: datetime

    @strawberry.field(description="Masked (138****8000) for callers without the pii:read scope.")
    def value(self, info: strawberry.Info) -> str:
        if sees_in_clear(info.context.principal, self.record.member_id):
            return self.record.value
        return model.mask_value(self.record.type, self.record.value)


def identity_object(record: IdentityRecord) -> IdentityObject:
    return IdentityObject(
        record=record,
        type=record.type,
        namespace=record.namespace,
        verified=record.verified,
        channel=record.channel,
        linked_at=record.linked_at,
        last_seen_at=record.last_seen_at,
    )


@strawberry.type(
    description="For callers without the pii:read scope (other than the member itself) the "
    "name shows its first character only (王**), gender is UNKNOWN and birthday and region "
    "are null."
)
class Profile:
    name: str | None
    gender: Gender
    birthday: date | None
    region: str | None


def profile_for(principal: Principal, record: MemberRecord) -> Profile:
    if sees_in_clear(principal, record.id):
        return Profile(
            name=record.name, gender=record.gender, birthday=record.birthday, region=record.region
        )
    return Profile(
        name=model.mask_name(record.name), gender=model.Gender.UNKNOWN, birthday=None, region=None
    )


@strawberry.type(name="Member")
class MemberObject(Node):
    record: strawberry.Private[MemberRecord]
    status: MemberStatus
    created_at: datetime
    registered_channel: Channel

    @strawberry.field
    async def merged_into(self, info: strawberry.Info) -> MemberObject | None:
        if self.record.merged_into is None:
            return None
        found = await info.context.loaders.member.load(self.record.merged_into)
        return None if found is None else member_object(found)

    @strawberry.field
    def profile(self, info: strawberry.Info) -> Profile:
        return profile_for(info.context.principal, self.record)

    points: PointsAccount = strawberry.field(resolver=member_points)

    @strawberry.field
    async def identities(self, info: strawberry.Info) -> list[IdentityObject]:
        records = await info.context.loaders.member_identities.load(self.record.id)
        return [identity_object(r) for r in records]

    @strawberry.field(description="Merges that folded other members into this one, newest first.")
    async def merges(self, info: strawberry.Info) -> list[MergeObject]:
        records = await info.context.loaders.merges_into.load(self.record.id)
        return [merge_object(r) for r in records]

    @strawberry.field
    def tier(self, info: strawberry.Info) -> Loaded[MemberTier]:
        return member_tier(info, self.record)

    @strawberry.field
    async def stats(self, info: strawberry.Info) -> MemberStats:
        return await member_stats(info, self.record)

    @strawberry.field(description="As of the last refresh; none before the first purchase.")
    async def rfm(self, info: strawberry.Info) -> Rfm | None:
        found = await info.context.loaders.rfm.load(self.record.id)
        return None if found is None else rfm_object(found)

    @strawberry.field
    async def lifecycle(self, info: strawberry.Info) -> LifecycleStage:
        return await member_lifecycle(info, self.record)

    @strawberry.field
    async def tags(self, info: strawberry.Info) -> list[MemberTag]:
        return await member_tags(info, self.record)

    @strawberry.field
    async def segments(self, info: strawberry.Info) -> list[SegmentObject]:
        return await member_segments(info, self.record)

    @strawberry.field(description="Newest first.")
    async def purchases(
        self, info: strawberry.Info, first: int | None = 20, after: str | None = None
    ) -> PurchaseConnection:
        return await member_purchases(info, self.record, 20 if first is None else first, after)

    @strawberry.field(description="The member's coupons, newest first.")
    async def coupons(
        self,
        info: strawberry.Info,
        status: CouponStatus | None = None,
        first: int | None = 20,
        after: str | None = None,
    ) -> Annotated[CouponConnection, strawberry.lazy("hub.api.coupon_types")]:
        from hub.api.coupon_types import member_coupons

        return await member_coupons(
            info, self.record, status, 20 if first is None else first, after
        )

    @strawberry.field
    async def consents(self, info: strawberry.Info) -> list[ConsentObject]:
        return await member_consents(info, self.record)

    @strawberry.field
    async def campaign_touches(self, info: strawberry.Info) -> list[CampaignTouchObject]:
        return await member_campaign_touches(info, self.record)


def member_object(record: MemberRecord) -> MemberObject:
    return MemberObject(
        id=strawberry.ID(encode_id("Member", record.id)),
        record=record,
        status=record.status,
        created_at=record.created_at,
        registered_channel=record.registered_channel,
    )


@strawberry.type(name="Merge")
class MergeObject(Node):
    record: strawberry.Private[MergeRecord]
    reason: str
    actor: str
    created_at: datetime
    undone_at: datetime | None

    @strawberry.field
    async def survivor(self, info: strawberry.Info) -> MemberObject:
        return member_object(await info.context.loaders.member.load(self.record.survivor_id))

    @strawberry.field
    async def merged(self, info: strawberry.Info) -> MemberObject:
        return member_object(await info.context.loaders.member.load(self.record.merged_id))

    @strawberry.field(
        description="Once undone: points of the merged member that the survivor had spent "
        "(or settled) while merged and could not give back. The unmerge settles them at once: "
        "a MERGE_IN credit to the merged member and a MERGE_IN debit (a debt) on the survivor, "
        "both in their points history. Null while the merge stands."
    )
    async def shortfall_points(self, info: strawberry.Info) -> int | None:
        if self.record.undone_at is None:
            return None
        return await info.context.loaders.merge_shortfall.load(self.record.id)

    @strawberry.field(description="The identity that proved both members are one person.")
    async def evidence(self, info: strawberry.Info) -> IdentityObject | None:
        if self.record.evidence_identity_id is None:
            return None
        found = await info.context.loaders.identity.load(self.record.evidence_identity_id)
        return None if found is None else identity_object(found)


def merge_object(record: MergeRecord) -> MergeObject:
    return node_object(MergeObject, "Merge", record, record=record)


MemberEdge = Edge[MemberObject]


@strawberry.type
class MemberConnection(Connection[MemberObject]):
    total_count: int


@node_loader("Member")
async def load_member_node(info: strawberry.Info, key: str) -> MemberObject | None:
    """``node(id)`` answers the member itself, merged or not (``member(id)`` follows merges)."""
    if not key.isdigit():
        return None
    member_id = int(key)
    if not may_read_member(info.context.principal, member_id):
        raise ForbiddenError("this call needs the scope members:read")
    found = await info.context.loaders.member.load(member_id)
    return None if found is None else member_object(found)


@node_loader("Merge")
async def load_merge_node(info: strawberry.Info, key: str) -> MergeObject | None:
    if not key.isdigit():
        return None
    if not allowed(info.context.principal, (Scope.MEMBERS_READ,)):
        raise ForbiddenError("this call needs the scope members:read")
    found = await info.context.loaders.merge.load(int(key))
    return None if found is None else merge_object(found)

"""GraphQL types of campaigns: the campaign, its report per arm, a member's touches, consent."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from hub.api.intelligence_types import SegmentObject, segment_object
from hub.api.node import Node, node_loader
from hub.http.permissions import allowed
from hub.http.principal import Scope
from hub.ids import InvalidGlobalId, decode_int_id, encode_id
from identity.records import MemberRecord
from sync.campaigns import model
from sync.campaigns.report import campaign_report
from sync.campaigns.store import load_campaigns

CampaignTrigger = strawberry.enum(model.Trigger, name="CampaignTrigger")
CampaignStatus = strawberry.enum(model.Status, name="CampaignStatus")
MessageChannel = strawberry.enum(model.MessageChannel, name="MessageChannel")


@strawberry.type(name="CampaignArm")
class CampaignArmObject:
    name: str
    weight: int
    holdout: bool
    members: int = strawberry.field(
        description="Members assigned to the arm (holdout members are assigned but not reached)."
    )
    reached: int
    converted: int = strawberry.field(
        description="Members who purchased within the conversion window after assignment."
    )
    conversion_rate: float | None
    revenue: Decimal
    coupons_redeemed: int
    points_awarded: int


@strawberry.type(name="CampaignReport")
class CampaignReportObject:
    arms: list[CampaignArmObject]
    uplift: float | None = strawberry.field(
        description="Conversion rate of the best arm minus the holdout's, in percentage points;"
        " null without a holdout."
    )
    p_value: float | None = strawberry.field(
        description="Two-sided p-value of that difference (two-proportion z-test); null without"
        " a holdout."
    )


@strawberry.type(name="Campaign")
class CampaignObject(Node):
    campaign: strawberry.Private[model.Campaign]
    name: str
    status: CampaignStatus
    trigger: CampaignTrigger
    trigger_days: int | None
    trigger_category: str | None
    starts_at: datetime
    ends_at: datetime | None
    frequency_cap_days: int
    conversion_window_days: int

    @strawberry.field
    async def audience(self, info: strawberry.Info) -> SegmentObject | None:
        if self.campaign.audience_segment_id is None:
            return None
        found = await info.context.loaders.segment.load(self.campaign.audience_segment_id)
        return None if found is None else segment_object(found)

    @strawberry.field
    async def report(self, info: strawberry.Info) -> CampaignReportObject:
        report = await campaign_report(
            info.context.execute, self.campaign.id, self.campaign.conversion_window_days
        )
        return CampaignReportObject(
            arms=[
                CampaignArmObject(
                    name=a.name,
                    weight=a.weight,
                    holdout=a.holdout,
                    members=a.members,
                    reached=a.reached,
                    converted=a.converted,
                    conversion_rate=a.conversion_rate,
                    revenue=a.revenue,  # type: ignore[arg-type]
                    coupons_redeemed=a.coupons_redeemed,
                    points_awarded=a.points_awarded,
                )
                for a in report.arms
            ],
            uplift=report.uplift,
            p_value=report.p_value,
        )


def campaign_object(campaign: model.Campaign) -> CampaignObject:
    return CampaignObject(
        id=strawberry.ID(encode_id("Campaign", campaign.id)),
        campaign=campaign,
        name=campaign.name,
        status=campaign.status,
        trigger=campaign.trigger,
        trigger_days=campaign.trigger_days,
        trigger_category=campaign.trigger_category,
        starts_at=campaign.starts_at,
        ends_at=campaign.ends_at,
        frequency_cap_days=campaign.frequency_cap_days,
        conversion_window_days=campaign.conversion_window_days,
    )


@node_loader("Campaign")
async def load_campaign_node(info: strawberry.Info, global_id: str) -> CampaignObject | None:
    if not allowed(info.context.principal, Scope.ADMIN):
        return None
    try:
        key = decode_int_id(global_id, "Campaign")
    except InvalidGlobalId:
        return None
    (found,) = await load_campaigns(info.context.execute, [key])
    return None if found is None else campaign_object(found)


@strawberry.type(
    name="CampaignTouch",
    description="A member's campaign history, for the mini-program and customer service.",
)
class CampaignTouchObject:
    campaign_id: strawberry.Private[int]
    arm: str
    assigned_at: datetime
    reached_at: datetime | None
    channel: MessageChannel | None
    outcome: str = strawberry.field(
        description="SENT, DELIVERED, FAILED, SKIPPED_NO_CONSENT, SKIPPED_QUIET_HOURS, HOLDOUT;"
        " PENDING while a message waits to be sent, DONE for an arm that sends no message"
        " (its coupon or points given)."
    )
    occurrence: str = strawberry.field(
        description="What the campaign's trigger fired for; a member is touched once per"
        " occurrence: once (ONCE), the birthday's year (BIRTHDAY), purchase:<id> (the last"
        " purchase before the lapse for INACTIVE_DAYS, the purchase for DAYS_AFTER_PURCHASE),"
        " the expiry day (POINTS_EXPIRING), upgrade:<time> (TIER_UPGRADED), entered:<time>"
        " (SEGMENT_ENTERED); legacy for touches from before occurrences were kept."
    )

    @strawberry.field
    async def campaign(self, info: strawberry.Info) -> CampaignObject:
        found = await info.context.loaders.campaign.load(self.campaign_id)
        assert found is not None
        return campaign_object(found)


@strawberry.type(name="Consent")
class ConsentObject:
    channel: MessageChannel
    granted: bool
    updated_at: datetime


async def member_consents(info: strawberry.Info, record: MemberRecord) -> list[ConsentObject]:
    found = await info.context.loaders.member_consents.load(record.id)
    return [
        ConsentObject(channel=c.channel, granted=c.granted, updated_at=c.updated_at) for c in found
    ]


async def member_campaign_touches(
    info: strawberry.Info, record: MemberRecord
) -> list[CampaignTouchObject]:
    found = await info.context.loaders.member_campaign_touches.load(record.id)
    return [
        CampaignTouchObject(
            campaign_id=t.campaign_id,
            arm=t.arm,
            assigned_at=t.assigned_at,
            reached_at=t.reached_at,
            channel=model.MessageChannel(t.channel) if t.channel else None,
            outcome=t.outcome,
            occurrence=t.occurrence,
        )
        for t in found
    ]

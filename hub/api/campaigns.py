"""Campaigns for operators (``admin``), and marketing consent for members and operators.

The resolvers translate inputs to ``sync.campaigns`` specs and domain errors to user errors;
evaluation and sending happen in the ``campaigns.evaluate`` / ``campaigns.deliver`` jobs.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime

import strawberry

from hub.api.campaign_types import (
    CampaignObject,
    CampaignStatus,
    CampaignTrigger,
    MessageChannel,
    campaign_object,
)
from hub.api.member_types import member_object
from hub.api.members import MemberPayload
from hub.errors import UserError, to_user_error
from hub.http.permissions import requires
from hub.http.principal import Scope
from hub.ids import InvalidGlobalId, decode_int_id
from sync.campaigns import model
from sync.campaigns.consent import set_consent
from sync.campaigns.model import CampaignError
from sync.campaigns.store import (
    create_campaign,
    list_campaigns,
    load_campaigns,
    pause_campaign,
    start_campaign,
)


@strawberry.input
class KeyValueInput:
    key: str
    value: str


@strawberry.input
class MessageInput:
    channel: MessageChannel
    template_id: str = strawberry.field(description="The provider's template id.")
    data: list[KeyValueInput] | None = strawberry.field(
        default=None,
        description="Template data; values may name member fields: {{member.name}},"
        " {{points.available}}, {{coupon.code}}.",
    )


@strawberry.input(
    description="What an arm does to each member it reaches; an arm with no action is a holdout."
)
class CampaignActionInput:
    issue_coupon_template_id: strawberry.ID | None = None
    award_points: int | None = None
    message: MessageInput | None = None


@strawberry.input
class CampaignArmInput:
    name: str
    weight: int = strawberry.field(
        description="Share of the audience, relative to the other arms' weights."
    )
    action: CampaignActionInput | None = None


@strawberry.input
class CampaignInput:
    name: str
    audience_segment_id: strawberry.ID | None = strawberry.field(
        default=None, description="None: every active member."
    )
    trigger: CampaignTrigger
    trigger_days: int | None = None
    trigger_category: str | None = None
    starts_at: datetime
    ends_at: datetime | None = None
    arms: list[CampaignArmInput]
    frequency_cap_days: int | None = strawberry.field(
        default=30,
        description="A member is reached by this campaign at most once in this many days.",
    )
    conversion_window_days: int | None = strawberry.field(
        default=14,
        description="A purchase within this many days of being reached counts as a conversion.",
    )

    def to_spec(self) -> model.CampaignSpec:
        arms = []
        for n, arm in enumerate(self.arms):
            action = arm.action or CampaignActionInput()
            template = action.issue_coupon_template_id
            message = action.message
            arms.append(
                model.ArmSpec(
                    name=arm.name,
                    weight=arm.weight,
                    coupon_template_id=(
                        _key(
                            template,
                            "CouponTemplate",
                            ("input", "arms", str(n), "action", "issueCouponTemplateId"),
                        )
                        if template is not None
                        else None
                    ),
                    award_points=action.award_points,
                    message=model.Message(
                        model.MessageChannel(message.channel.value),
                        message.template_id,
                        tuple((d.key, d.value) for d in message.data or ()),
                    )
                    if message is not None
                    else None,
                )
            )
        return model.CampaignSpec(
            name=self.name,
            trigger=model.Trigger(self.trigger.value),
            starts_at=self.starts_at,
            arms=tuple(arms),
            audience_segment_id=(
                _key(self.audience_segment_id, "Segment", ("input", "audienceSegmentId"))
                if self.audience_segment_id is not None
                else None
            ),
            trigger_days=self.trigger_days,
            trigger_category=self.trigger_category,
            ends_at=self.ends_at,
            frequency_cap_days=30 if self.frequency_cap_days is None else self.frequency_cap_days,
            conversion_window_days=(
                14 if self.conversion_window_days is None else self.conversion_window_days
            ),
        )


def _key(global_id: str, type_name: str, field: tuple[str, ...]) -> int:
    try:
        return decode_int_id(str(global_id), type_name)
    except InvalidGlobalId as error:
        raise model.InvalidCampaign(str(error), field=field) from None


@strawberry.type
class CampaignPayload:
    campaign: CampaignObject | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _campaign_id(id: strawberry.ID) -> int:
    return _key(id, "Campaign", ("id",))


#: A service that moves a campaign to another status (``sync.campaigns.store``).
StatusChange = Callable[..., Awaitable[model.Campaign]]


async def _change_status(
    info: strawberry.Info, id: strawberry.ID, change: StatusChange
) -> CampaignPayload:
    context = info.context
    try:
        key = _campaign_id(id)
        campaign = await context.transact(
            lambda s: change(session=s, campaign_id=key, now=context.now())
        )
    except CampaignError as error:
        return CampaignPayload(user_errors=[to_user_error(error)])
    return CampaignPayload(campaign=campaign_object(campaign))


@strawberry.type
class CampaignQuery:
    @strawberry.field
    @requires(Scope.ADMIN)
    async def campaigns(
        self, info: strawberry.Info, status: CampaignStatus | None = None
    ) -> list[CampaignObject]:
        found = await list_campaigns(
            info.context.execute, model.Status(status.value) if status else None
        )
        return [campaign_object(c) for c in found]

    @strawberry.field
    @requires(Scope.ADMIN)
    async def campaign(self, info: strawberry.Info, id: strawberry.ID) -> CampaignObject | None:
        try:
            key = decode_int_id(str(id), "Campaign")
        except InvalidGlobalId:
            return None
        (found,) = await load_campaigns(info.context.execute, [key])
        return None if found is None else campaign_object(found)


@strawberry.type
class CampaignMutation:
    @strawberry.mutation
    @requires(Scope.ADMIN)
    async def create_campaign(self, info: strawberry.Info, input: CampaignInput) -> CampaignPayload:
        context = info.context
        try:
            spec = input.to_spec()
            campaign = await context.transact(
                lambda s: create_campaign(
                    session=s, spec=spec, actor=context.principal.name, now=context.now()
                )
            )
        except CampaignError as error:
            return CampaignPayload(user_errors=[to_user_error(error)])
        return CampaignPayload(campaign=campaign_object(campaign))

    @strawberry.mutation
    @requires(Scope.ADMIN)
    async def start_campaign(self, info: strawberry.Info, id: strawberry.ID) -> CampaignPayload:
        return await _change_status(info, id, start_campaign)

    @strawberry.mutation
    @requires(Scope.ADMIN)
    async def pause_campaign(self, info: strawberry.Info, id: strawberry.ID) -> CampaignPayload:
        return await _change_status(info, id, pause_campaign)

    @strawberry.mutation
    @requires(Scope.MEMBERS_WRITE, self_member="member_id")
    async def set_consent(
        self,
        info: strawberry.Info,
        member_id: strawberry.ID,
        channel: MessageChannel,
        granted: bool,
    ) -> MemberPayload:
        context = info.context
        try:
            key = _key(member_id, "Member", ("memberId",))
            await context.transact(
                lambda s: set_consent(
                    session=s,
                    member_id=key,
                    channel=model.MessageChannel(channel.value),
                    granted=granted,
                    now=context.now(),
                )
            )
        except CampaignError as error:
            return MemberPayload(user_errors=[to_user_error(error)])
        record = await context.loaders.member.load(key)
        return MemberPayload(member=member_object(record) if record else None)

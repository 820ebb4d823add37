"""GraphQL inputs of identity resolution and their translation to domain values."""

from __future__ import annotations

from datetime import date
from typing import Any

import strawberry

from hub.api.direct_inputs import direct_input
from hub.api.enums import LifecycleStage, RfmSegment
from hub.api.member_types import Channel, Gender, IdentityType
from hub.settings import Settings, built_per_settings
from identity.model import IdentityConfig, MergeRules, RawIdentity


@direct_input
@strawberry.input
class IdentityInput:
    type: IdentityType
    value: str
    namespace: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="Required for WECHAT_OPENID, POS_CARD and PARTNER_ID.",
    )
    verified: bool | None = strawberry.field(
        default=False,
        description="True only when the channel proved ownership (SMS code, WeChat phone "
        "authorisation). Only verified identities can cause an automatic merge. Counts only "
        "from a caller that can vouch for it: from a member token or a frontend key the "
        "identity is stored unverified.",
    )

    def to_raw(self) -> RawIdentity:
        return RawIdentity(
            type=self.type,
            value=self.value,
            namespace=self.namespace or None,
            verified=bool(self.verified),
        )


@strawberry.input
class ProfileInput:
    name: str | None = strawberry.UNSET
    gender: Gender | None = strawberry.UNSET
    birthday: date | None = strawberry.UNSET
    region: str | None = strawberry.UNSET

    def to_patch(self) -> dict[str, Any]:
        """The fields given (null clears one); fields left out are not in the patch."""
        given = {
            "name": self.name,
            "gender": self.gender,
            "birthday": self.birthday,
            "region": self.region,
        }
        return {k: v for k, v in given.items() if v is not strawberry.UNSET}


@strawberry.input
class IdentifyInput:
    identities: list[IdentityInput]
    channel: Channel
    profile: ProfileInput | None = strawberry.UNSET
    create_if_missing: bool | None = strawberry.field(
        default=True, description="Create a member when no identity is known (default true)."
    )
    referrer_id: strawberry.ID | None = strawberry.field(
        default=strawberry.UNSET,
        description="Member who referred this one; both receive the referral bonus once the "
        "new member is created.",
    )


@strawberry.input(
    description="Filters that need tiers, tags, segments, RFM or lifecycle join as those "
    "features arrive."
)
class MemberFilter:
    tier_code: str | None = strawberry.UNSET
    tag_id: strawberry.ID | None = strawberry.UNSET
    segment_id: strawberry.ID | None = strawberry.UNSET
    lifecycle: LifecycleStage | None = strawberry.UNSET
    rfm_segment: RfmSegment | None = strawberry.UNSET
    registered_channel: Channel | None = strawberry.UNSET


@built_per_settings
def identity_config(settings: Settings) -> IdentityConfig:
    """The identity settings of ``settings``."""
    return IdentityConfig(
        phone_region=settings.phone_region,
        phone_hash_salt=settings.resolved_phone_hash_salt(),
        merge_rules=MergeRules(
            max_verified_phones=settings.merge_max_verified_phones,
            max_unionids=settings.merge_max_unionids,
            max_openids_per_app=settings.merge_max_openids_per_app,
            max_pos_cards_per_system=settings.merge_max_pos_cards_per_system,
        ),
    )

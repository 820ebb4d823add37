"""GraphQL enums more than one area's types use; a leaf module, so areas import it directly.

Types that reference each other's objects (a member's purchases, a purchase's member) still
meet through ``strawberry.lazy``; enums need not, and live here.
"""

from __future__ import annotations

import enum

import strawberry

from identity import model as identity_model
from ledger.benefits import model as benefits_model

Channel = strawberry.enum(identity_model.Channel, name="Channel")
CouponStatus = strawberry.enum(benefits_model.CouponStatus, name="CouponStatus")


@strawberry.enum
class RfmSegment(enum.Enum):
    IMPORTANT_VALUE = strawberry.enum_value(
        "IMPORTANT_VALUE", description="重要价值: recent, frequent, high spend."
    )
    IMPORTANT_DEVELOP = strawberry.enum_value(
        "IMPORTANT_DEVELOP", description="重要发展: recent, infrequent, high spend."
    )
    IMPORTANT_KEEP = strawberry.enum_value(
        "IMPORTANT_KEEP", description="重要保持: not recent, frequent, high spend."
    )
    IMPORTANT_RETAIN = strawberry.enum_value(
        "IMPORTANT_RETAIN", description="重要挽留: not recent, infrequent, high spend."
    )
    GENERAL_VALUE = strawberry.enum_value(
        "GENERAL_VALUE", description="一般价值: recent, frequent, low spend."
    )
    GENERAL_DEVELOP = strawberry.enum_value(
        "GENERAL_DEVELOP", description="一般发展: recent, infrequent, low spend."
    )
    GENERAL_KEEP = strawberry.enum_value(
        "GENERAL_KEEP", description="一般保持: not recent, frequent, low spend."
    )
    GENERAL_RETAIN = strawberry.enum_value(
        "GENERAL_RETAIN", description="一般挽留: not recent, infrequent, low spend."
    )


@strawberry.enum
class LifecycleStage(enum.Enum):
    PROSPECT = strawberry.enum_value("PROSPECT", description="Registered, no purchase yet.")
    NEW = strawberry.enum_value("NEW", description="First purchase within the new-member window.")
    ACTIVE = "ACTIVE"
    DORMANT = "DORMANT"
    CHURNED = "CHURNED"

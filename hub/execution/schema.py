"""The served schema, assembled from the area modules. ``memberhub schema`` prints it.

Each area module (``hub/api/<area>.py``) defines ``<Area>Query`` / ``<Area>Mutation`` types;
they are merged here into the root types, in the order listed. The HTTP layer parses,
validates (with the query limits), executes and masks faults itself: see ``hub.execution.execute``.
"""

from __future__ import annotations

from datetime import datetime

import strawberry
from strawberry.tools import merge_types

from hub.api.behaviour_events import BehaviourEventMutation
from hub.api.campaigns import CampaignMutation, CampaignQuery
from hub.api.coupons import CouponMutation, CouponQuery
from hub.api.dry_run import DryRunQuery
from hub.api.fraud import FraudMutation
from hub.api.funnel import FunnelQuery
from hub.api.member_login import MemberTokenMutation
from hub.api.members import MemberMutation, MemberQuery
from hub.api.node import NodeQuery
from hub.api.points import PointsMutation
from hub.api.promotions import PromotionMutation, PromotionQuery
from hub.api.purchases import PurchaseMutation, PurchaseQuery
from hub.api.review_queues import ReviewQueueQuery
from hub.api.segment_preview import SegmentPreviewQuery
from hub.api.segments import SegmentMutation, SegmentQuery
from hub.api.webhook_deliveries import WebhookDeliveryMutation, WebhookDeliveryQuery
from hub.api.webhooks import WebhookMutation, WebhookQuery
from hub.execution.datetime_scalar import DATETIME

QUERIES: tuple[type, ...] = (
    NodeQuery,
    MemberQuery,
    PurchaseQuery,
    ReviewQueueQuery,
    SegmentQuery,
    SegmentPreviewQuery,
    WebhookQuery,
    WebhookDeliveryQuery,
    CouponQuery,
    PromotionQuery,
    DryRunQuery,
    FunnelQuery,
    CampaignQuery,
)
MUTATIONS: tuple[type, ...] = (
    MemberMutation,
    MemberTokenMutation,
    PointsMutation,
    PurchaseMutation,
    FraudMutation,
    SegmentMutation,
    WebhookMutation,
    WebhookDeliveryMutation,
    CouponMutation,
    PromotionMutation,
    BehaviourEventMutation,
    CampaignMutation,
)


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=merge_types("Query", QUERIES),
        mutation=merge_types("Mutation", MUTATIONS) if MUTATIONS else None,
        scalar_overrides={datetime: DATETIME},
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"

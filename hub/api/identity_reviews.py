"""Identity review cases through the API: what ``identify`` answered CONFLICT about, for
operators (admin) only (the queue of cases is ``identityReviews``, in
``hub.api.review_queues``)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from hub.api.member_types import MemberObject, member_object
from hub.api.node import Node, node_loader, node_object
from hub.api.pagination import Connection, Edge
from hub.http.permissions import ForbiddenError
from identity import reviews

IdentityReviewStatus = strawberry.enum(reviews.ReviewStatus, name="IdentityReviewStatus")


@strawberry.type(
    name="IdentityReview",
    description="Identities that tie several members together without the verified evidence "
    "or within the merge rules an automatic merge needs; an operator merges the members (or "
    "not).",
)
class IdentityReviewObject(Node):
    record: strawberry.Private[reviews.IdentityReview]
    status: IdentityReviewStatus
    reason: str = strawberry.field(
        description="NO_VERIFIED_EVIDENCE, or the merge rules a merge would break, comma-separated."
    )
    channel: str
    actor: str
    occurrences: int = strawberry.field(description="How often identify met this conflict.")
    created_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None

    @strawberry.field(description="The members the identities tie together, oldest first.")
    async def members(self, info: strawberry.Info) -> list[MemberObject]:
        found = await info.context.loaders.member.load_many(list(self.record.member_ids))
        return [member_object(record) for record in found if record is not None]


def identity_review_object(record: reviews.IdentityReview) -> IdentityReviewObject:
    return node_object(IdentityReviewObject, "IdentityReview", record, record=record)


async def identity_review(
    info: strawberry.Info, review_id: int | None
) -> IdentityReviewObject | None:
    """The case ``review_id`` for an operator; None for anyone else or no case."""
    if review_id is None or not info.context.principal.is_admin:
        return None
    found = await info.context.loaders.identity_review.load(review_id)
    return None if found is None else identity_review_object(found)


@node_loader("IdentityReview")
async def load_identity_review_node(info: strawberry.Info, key: str) -> IdentityReviewObject | None:
    if not key.isdigit():
        return None
    if not info.context.principal.is_admin:
        raise ForbiddenError("identity reviews are for operators")
    return await identity_review(info, int(key))


IdentityReviewEdge = Edge[IdentityReviewObject]


@strawberry.type
class IdentityReviewConnection(Connection[IdentityReviewObject]):
    """A page of IdentityReview edges."""

"""The review queues operators work through, served as connections, oldest first: the
fraud cases of held points (``fraudReviews``) and the identity conflicts ``identify`` could
not settle (``identityReviews``), each listed by its domain package."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from enum import Enum
from typing import Any, Generic, TypeVar

import strawberry

from hub.api.identity_reviews import (
    IdentityReviewConnection,
    IdentityReviewEdge,
    IdentityReviewStatus,
    identity_review_object,
)
from hub.api.pagination import check_page_size, decode_cursor, forward_page
from hub.api.purchase_types import (
    FraudReviewConnection,
    FraudReviewEdge,
    ReviewStatus,
    review_object,
)
from hub.http.permissions import requires
from hub.http.principal import Scope
from identity import reviews as identity_reviews
from ledger import reviews as fraud_reviews

C = TypeVar("C")

#: The size of a page when ``first`` is not given.
DEFAULT_PAGE = 50


@dataclass(frozen=True)
class ReviewQueue(Generic[C]):
    #: The node type, which names the cursors too.
    kind: str
    #: The domain's ``list_reviews(execute, *, status, first, after)``.
    list_reviews: Callable[..., Awaitable[tuple[list[Any], bool]]]
    #: The domain's status enum.
    statuses: type[Enum]
    connection: Callable[..., C]
    edge: Callable[..., Any]
    node: Callable[[Any], Any]

    async def page(
        self, info: strawberry.Info, status: Enum | None, first: int | None, after: str | None
    ) -> C:
        size = DEFAULT_PAGE if first is None else first
        check_page_size(size)
        found, has_next = await self.list_reviews(
            info.context.execute,
            status=self.statuses(status.value) if status else None,
            first=size,
            after=decode_cursor(after, self.kind) if after else None,
        )
        return forward_page(
            self.connection, self.edge, self.kind, found, self.node, has_next=has_next, after=after
        )


FRAUD_REVIEWS = ReviewQueue(
    "FraudReview",
    fraud_reviews.list_reviews,
    fraud_reviews.ReviewStatus,
    FraudReviewConnection,
    FraudReviewEdge,
    review_object,
)
IDENTITY_REVIEWS = ReviewQueue(
    "IdentityReview",
    identity_reviews.list_reviews,
    identity_reviews.ReviewStatus,
    IdentityReviewConnection,
    IdentityReviewEdge,
    identity_review_object,
)


@strawberry.type
class ReviewQueueQuery:
    @strawberry.field(description="Review cases by status, oldest first.")
    @requires(Scope.ADMIN)
    async def fraud_reviews(
        self,
        info: strawberry.Info,
        status: ReviewStatus | None = fraud_reviews.ReviewStatus.OPEN,
        first: int | None = DEFAULT_PAGE,
        after: str | None = None,
    ) -> FraudReviewConnection:
        return await FRAUD_REVIEWS.page(info, status, first, after)

    @strawberry.field(description="Identity review cases by status, oldest first.")
    @requires(Scope.ADMIN)
    async def identity_reviews(
        self,
        info: strawberry.Info,
        status: IdentityReviewStatus | None = identity_reviews.ReviewStatus.OPEN,
        first: int | None = DEFAULT_PAGE,
        after: str | None = None,
    ) -> IdentityReviewConnection:
        return await IDENTITY_REVIEWS.page(info, status, first, after)

"""Fraud reviews: the queue of held points and an operator's decision on each."""

from __future__ import annotations

import strawberry

from hub.api.pagination import check_page_size, decode_cursor, forward_page
from hub.api.purchase_types import (
    FraudReviewConnection,
    FraudReviewEdge,
    FraudReviewObject,
    ReviewDecision,
    ReviewStatus,
    review_object,
)
from hub.errors import UserError, to_user_error
from hub.http.permissions import requires
from hub.http.principal import Scope
from hub.ids import InvalidGlobalId, decode_int_id
from hub.wiring import ledger_config
from ledger import reviews
from ledger.errors import LedgerError


@strawberry.type
class ReviewPayload:
    review: FraudReviewObject | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class FraudQuery:
    @strawberry.field(description="Review cases by status, oldest first.")
    @requires(Scope.ADMIN)
    async def fraud_reviews(
        self,
        info: strawberry.Info,
        status: ReviewStatus | None = reviews.ReviewStatus.OPEN,
        first: int | None = 50,
        after: str | None = None,
    ) -> FraudReviewConnection:
        size = 50 if first is None else first
        check_page_size(size)
        after_id = decode_cursor(after, "FraudReview") if after else None
        found, has_next = await reviews.list_reviews(
            info.context.execute,
            status=reviews.ReviewStatus(status.value) if status else None,
            first=size,
            after=after_id,
        )
        return forward_page(
            FraudReviewConnection,
            FraudReviewEdge,
            "FraudReview",
            found,
            review_object,
            has_next=has_next,
            after=after,
        )


@strawberry.type
class FraudMutation:
    @strawberry.mutation(description="Approve (credit) or reject (cancel) held points, once.")
    @requires(Scope.ADMIN)
    async def review_fraud_case(
        self,
        info: strawberry.Info,
        id: strawberry.ID,
        decision: ReviewDecision,
        note: str | None = None,
    ) -> ReviewPayload:
        context = info.context
        try:
            review_id = decode_int_id(str(id), "FraudReview")
        except InvalidGlobalId as error:
            return ReviewPayload(user_errors=[to_user_error(error, field_prefix=("id",))])
        try:
            review = await context.transact(
                lambda session: reviews.decide_review(
                    session,
                    review_id=review_id,
                    decision=reviews.ReviewDecision(decision.value),
                    actor=context.principal.name,
                    note=(note or "").strip() or None,
                    now=context.now(),
                    config=ledger_config(context.settings),
                )
            )
        except LedgerError as error:
            return ReviewPayload(user_errors=[to_user_error(error)])
        return ReviewPayload(review=review_object(review))

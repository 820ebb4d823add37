"""Fraud reviews: an operator's decision on a case of held points (the queue of cases is
``fraudReviews``, in ``hub.api.review_queues``)."""

from __future__ import annotations

import strawberry

from hub.api.purchase_types import (
    FraudReviewObject,
    ReviewDecision,
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

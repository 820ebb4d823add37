"""``funnel``: members through view -> add to cart -> purchase in a period."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import strawberry
from graphql import GraphQLError

from hub.http.permissions import requires
from hub.http.principal import Scope
from hub.ids import InvalidGlobalId, decode_int_id
from sync.behaviour.funnel import FunnelError, FunnelStepKind, count_funnel

FunnelStepKindType = strawberry.enum(FunnelStepKind, name="FunnelStepKind")


@strawberry.type
class FunnelStep:
    step: FunnelStepKindType  # type: ignore[valid-type]
    members: int = strawberry.field(
        description="Members who did this step after the previous one, within the window."
    )
    conversion: float | None = strawberry.field(
        description="members / the previous step's members; null for the first step."
    )


@strawberry.type
class FunnelQuery:
    @strawberry.field
    @requires(Scope.MEMBERS_READ)
    async def funnel(
        self,
        info: strawberry.Info,
        steps: list[FunnelStepKindType],  # type: ignore[valid-type]
        from_: Annotated[date, strawberry.argument(name="from")],
        to: date,
        within_days: int | None = 7,
        segment_id: strawberry.ID | None = None,
    ) -> list[FunnelStep]:
        context = info.context
        segment: int | None = None
        if segment_id is not None:
            try:
                segment = decode_int_id(segment_id, "Segment")
            except InvalidGlobalId:
                raise GraphQLError(
                    "no such segment", extensions={"code": "NOT_FOUND", "field": ["segmentId"]}
                ) from None
        try:
            counts = await count_funnel(
                context.session,
                steps=[FunnelStepKind(s.value) for s in steps],
                start=from_,
                end=to,
                within_days=7 if within_days is None else within_days,
                time_zone=context.settings.time_zone,
                segment_id=segment,
            )
        except FunnelError as error:
            raise GraphQLError(
                str(error), extensions={"code": error.code, "field": list(error.field)}
            ) from None
        return [FunnelStep(step=c.step, members=c.members, conversion=c.conversion) for c in counts]

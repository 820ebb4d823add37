"""Points: checkIn, redeemPoints, adjustPoints, and ``Member.points`` (types in points_types).

Every mutation carries an idempotency key, scoped to the caller: an API client's keys are
its own (``client:<id>``), a member token's are its member's (``member:<id>``), so no two
callers can collide. A retry answers the first result with ``replayed: true``.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import strawberry
from sqlalchemy.ext.asyncio import AsyncSession

from hub.api.member_types import Channel, MemberObject, member_object
from hub.api.points_types import (
    FraudDecision,
    LedgerEntryObject,
    PointsAccount,
    fraud_decision,
    ledger_entry_object,
    member_points,
)
from hub.errors import ErrorCode, UserError, to_user_error, user_error
from hub.http.permissions import requires
from hub.http.principal import ClientKind, Principal, Scope
from hub.ids import InvalidGlobalId, decode_int_id
from hub.wiring import ledger_config
from ledger import model
from ledger.adjustment import adjust_points
from ledger.checkin import check_in
from ledger.errors import LedgerError
from ledger.posting import PostingResult
from ledger.redemption import redeem_points

__all__ = ["PointsAccount", "PointsMutation", "member_points"]


@strawberry.type
class PointsPayload:
    member: MemberObject | None = None
    entry: LedgerEntryObject | None = None
    decision: FraudDecision | None = None
    replayed: bool = strawberry.field(
        default=False,
        description="True when this answers a retry of an earlier request with the same key.",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.input
class RedeemInput:
    member_id: strawberry.ID
    points: int
    idempotency_key: str
    channel: Channel
    store_id: strawberry.ID | None = None
    reason: str = strawberry.field(
        description="What the points buy, e.g. a reward code or 'order discount'."
    )


@strawberry.input
class AdjustInput:
    member_id: strawberry.ID
    points: int = strawberry.field(description="Signed.")
    idempotency_key: str
    reason: str


@strawberry.input
class CheckInInput:
    member_id: strawberry.ID
    channel: Channel
    idempotency_key: str


def key_scope(principal: Principal) -> str:
    """Whose keys a key is among: a member token's member, or the API client."""
    if principal.kind is ClientKind.MEMBER:
        return f"member:{principal.member_id}"
    return f"client:{principal.client_id}"


Work = Callable[[AsyncSession, int], Awaitable[PostingResult]]


async def _post(info: strawberry.Info, member_global_id: str, work: Work) -> PointsPayload:
    """Run one ledger operation in a transaction and answer its payload."""
    try:
        member_id = decode_int_id(member_global_id, "Member")
    except InvalidGlobalId as error:
        return PointsPayload(user_errors=[to_user_error(error, field_prefix=("input", "memberId"))])
    try:
        result = await info.context.transact(lambda session: work(session, member_id))
    except LedgerError as error:
        return PointsPayload(user_errors=[to_user_error(error, field_prefix=("input",))])
    record = await info.context.loaders.member.load(member_id)
    return PointsPayload(
        member=member_object(record) if record is not None else None,
        entry=ledger_entry_object(result.entry) if result.entry is not None else None,
        decision=fraud_decision(result.decision, result.review_id),
        replayed=result.replayed,
        user_errors=(
            [to_user_error(result.refusal, field_prefix=("input",))]
            if result.refusal is not None
            else []
        ),
    )


@strawberry.type
class PointsMutation:
    @strawberry.mutation(description="Daily check-in: points once per business day.")
    @requires(Scope.POINTS_WRITE, self_member="input.member_id")
    async def check_in(self, info: strawberry.Info, input: CheckInInput) -> PointsPayload:
        context = info.context
        return await _post(
            info,
            input.member_id,
            lambda session, member_id: check_in(
                session=session,
                member_id=member_id,
                channel=model.Channel(input.channel.value),
                key_scope=key_scope(context.principal),
                key=input.idempotency_key,
                now=context.now(),
                config=ledger_config(context.settings),
            ),
        )

    @strawberry.mutation(description="Spend available points; INSUFFICIENT_POINTS when short.")
    @requires(Scope.POINTS_WRITE, self_member="input.member_id")
    async def redeem_points(self, info: strawberry.Info, input: RedeemInput) -> PointsPayload:
        context = info.context
        principal: Principal = context.principal
        store_id = input.store_id
        if principal.kind is ClientKind.POS and not principal.is_admin:
            # A till redeems at its own store only.
            if store_id is not None and store_id != principal.store_id:
                return PointsPayload(
                    user_errors=[
                        user_error(
                            ErrorCode.FORBIDDEN,
                            "a POS client may redeem only at its own store",
                            ["input", "storeId"],
                        )
                    ]
                )
            store_id = strawberry.ID(principal.store_id) if principal.store_id else None
        return await _post(
            info,
            input.member_id,
            lambda session, member_id: redeem_points(
                session=session,
                member_id=member_id,
                points=input.points,
                channel=model.Channel(input.channel.value),
                store_id=store_id,
                reason=input.reason,
                key_scope=key_scope(principal),
                key=input.idempotency_key,
                now=context.now(),
                config=ledger_config(context.settings),
            ),
        )

    @strawberry.mutation(description="An operator's signed correction, with a reason.")
    @requires(Scope.ADMIN)
    async def adjust_points(self, info: strawberry.Info, input: AdjustInput) -> PointsPayload:
        context = info.context
        return await _post(
            info,
            input.member_id,
            lambda session, member_id: adjust_points(
                session=session,
                member_id=member_id,
                points=input.points,
                reason=input.reason,
                actor=context.principal.name,
                key_scope=key_scope(context.principal),
                key=input.idempotency_key,
                now=context.now(),
                config=ledger_config(context.settings),
            ),
        )

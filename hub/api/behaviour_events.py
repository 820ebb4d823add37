"""``trackEvents``: behaviour events from the mini-program and the web, in batches.

A member token sends events for its own member only (``memberId`` omitted or its own); a
key with ``events:write`` names the member of every event. The batch is all or nothing:
any event out of bounds, claimed for another member or naming an unknown member is a user
error naming its position, and nothing is written.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import strawberry

from hub.api.direct_inputs import direct_input
from hub.api.member_types import Channel
from hub.errors import ErrorCode, UserError, user_error
from hub.http.permissions import requires
from hub.http.principal import Scope
from hub.ids import InvalidGlobalId, decode_int_id
from sync.behaviour.ingest import MAX_BATCH, BehaviourKind, EventColumns, record_events

BehaviourKindType = strawberry.enum(BehaviourKind, name="BehaviourKind")
#: Clocks of phones run ahead; an event further in the future than this is refused.
FUTURE_SLACK = timedelta(days=1)


@direct_input
@strawberry.input
class BehaviourEventInput:
    event_id: str = strawberry.field(
        description="The sender's unique id for the event: a resend is counted once."
    )
    member_id: strawberry.ID | None = strawberry.field(
        default=None, description="The member; with a member token, the token's member."
    )
    kind: BehaviourKindType  # type: ignore[valid-type]
    channel: Channel  # type: ignore[valid-type]
    occurred_at: datetime
    sku: str | None = None
    category: str | None = None
    query: str | None = strawberry.field(default=None, description="SEARCH: the search words.")


@strawberry.type
class TrackEventsPayload:
    accepted: int = 0
    duplicates: int = 0
    user_errors: list[UserError] = strawberry.field(
        description='Errors name the event by its position: ["events", "3", ...].'
    )


def _columns(
    events: list[BehaviourEventInput],
    *,
    own_member: int | None,
    now: datetime,
    retention: timedelta,
) -> tuple[EventColumns, list[UserError]]:
    columns = EventColumns()
    errors: list[UserError] = []
    oldest, latest = now - retention, now + FUTURE_SLACK
    for n, event in enumerate(events):
        at = ("events", str(n))
        member = event.member_id
        if own_member is not None:
            if member is not None and _member_key(member) != own_member:
                errors.append(
                    user_error(
                        ErrorCode.FORBIDDEN,
                        "a member token sends events for its own member only",
                        (*at, "memberId"),
                    )
                )
                continue
            member_key: int | None = own_member
        elif member is None:
            errors.append(user_error(ErrorCode.INVALID_INPUT, "memberId is required", at))
            continue
        else:
            member_key = _member_key(member)
            if member_key is None:
                errors.append(user_error(ErrorCode.NOT_FOUND, "no such member", (*at, "memberId")))
                continue
        occurred = event.occurred_at
        if occurred.tzinfo is None:
            errors.append(
                user_error(
                    ErrorCode.INVALID_INPUT, "occurredAt needs a time zone", (*at, "occurredAt")
                )
            )
            continue
        if not oldest < occurred <= latest:
            errors.append(
                user_error(
                    ErrorCode.INVALID_INPUT,
                    f"occurredAt lies outside the last {retention.days} days",
                    (*at, "occurredAt"),
                )
            )
            continue
        blank = next(
            (
                name
                for name, value in (
                    ("eventId", event.event_id),
                    ("sku", event.sku),
                    ("category", event.category),
                    ("query", event.query),
                )
                if value is not None and not value.strip()
            ),
            None,
        )
        if blank is not None:
            errors.append(
                user_error(ErrorCode.INVALID_INPUT, f"{blank} must not be blank", (*at, blank))
            )
            continue
        columns.member_ids.append(member_key)
        columns.event_ids.append(event.event_id)
        columns.kinds.append(event.kind.value)
        columns.channels.append(event.channel.value)
        columns.occurred_at.append(occurred)
        columns.skus.append(event.sku)
        columns.categories.append(event.category)
        columns.queries.append(event.query)
    return columns, errors


def _member_key(global_id: str) -> int | None:
    try:
        return decode_int_id(global_id, "Member")
    except InvalidGlobalId:
        return None


@strawberry.type
class BehaviourEventMutation:
    @strawberry.mutation
    @requires(Scope.EVENTS_WRITE, Scope.SELF)
    async def track_events(
        self, info: strawberry.Info, events: list[BehaviourEventInput]
    ) -> TrackEventsPayload:
        context = info.context
        if len(events) > MAX_BATCH:
            return TrackEventsPayload(
                user_errors=[
                    user_error(
                        ErrorCode.INVALID_INPUT,
                        f"send at most {MAX_BATCH} events at once",
                        ("events",),
                    )
                ],
            )
        now = context.now()
        columns, errors = _columns(
            events,
            own_member=context.principal.member_id,
            now=now,
            retention=timedelta(days=context.settings.event_retention_days),
        )
        if errors:
            return TrackEventsPayload(user_errors=errors)
        result = await context.transact(lambda s: record_events(s, events=columns, now=now))
        if result.unknown_members:
            return TrackEventsPayload(
                user_errors=[
                    user_error(
                        ErrorCode.NOT_FOUND, "no such member", ("events", str(n), "memberId")
                    )
                    for n in result.unknown_members
                ],
            )
        return TrackEventsPayload(
            accepted=result.accepted, duplicates=result.duplicates, user_errors=[]
        )

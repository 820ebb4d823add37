"""The transactional outbox: every domain event becomes a row in the transaction that caused it.

Delivery reads committed rows, so an event is never sent for a change that rolled back and
never lost for one that committed.
"""

from __future__ import annotations

from collections.abc import Sequence

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from identity.hooks import DomainEvent, EventHooks

#: One statement text for any number of events, kept in their order. Built once: an
#: identify appends four events, and building the statement per call cost more than its
#: round trip.
_APPEND = text(
    "INSERT INTO outbox_events"
    " (event_id, event_type, version, member_id, payload, occurred_at)"
    " SELECT gen_random_uuid(), t, v, m, CAST(p AS jsonb), now()"
    " FROM unnest(CAST(:types AS text[]), CAST(:versions AS int[]),"
    " CAST(:members AS bigint[]), CAST(:payloads AS text[])) WITH ORDINALITY"
    " AS e(t, v, m, p, n) ORDER BY n"
)


async def append_event(session: AsyncSession, event: DomainEvent) -> None:
    await append_events(session, [event])


async def append_events(session: AsyncSession, events: Sequence[DomainEvent]) -> None:
    """Many events in one INSERT, in their order."""
    await session.execute(
        _APPEND,
        {
            "types": [e.event_type for e in events],
            "versions": [e.version for e in events],
            "members": [e.member_id for e in events],
            # orjson: the stdlib encoder was a twentieth of a purchase batch's CPU.
            "payloads": [orjson.dumps(e.payload()).decode() for e in events],
        },
    )


def subscribe_outbox(hooks: EventHooks) -> None:
    hooks.subscribe(DomainEvent, append_event, many=append_events)

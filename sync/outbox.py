"""The transactional outbox: every domain event becomes a row in the transaction that caused it.

Delivery reads committed rows, so an event is never sent for a change that rolled back and
never lost for one that committed.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert
from sqlalchemy.ext.asyncio import AsyncSession

from identity.hooks import DomainEvent, EventHooks
from sync.tables import outbox_events


def _row(event: DomainEvent) -> dict[str, Any]:
    return {
        "event_id": uuid.uuid4(),
        "event_type": event.event_type,
        "version": event.version,
        "member_id": event.member_id,
        "payload": event.payload(),
    }


async def append_event(session: AsyncSession, event: DomainEvent) -> None:
    await session.execute(insert(outbox_events).values(**_row(event), occurred_at=func.now()))


async def append_events(session: AsyncSession, events: Sequence[DomainEvent]) -> None:
    """Many events in one multi-row INSERT, in their order."""
    await session.execute(
        insert(outbox_events).values([{**_row(e), "occurred_at": func.now()} for e in events])
    )


def subscribe_outbox(hooks: EventHooks) -> None:
    hooks.subscribe(DomainEvent, append_event, many=append_events)

"""What a webhook's owner may see of its deliveries, and the test delivery it may ask for.

Each delivery row already records the attempts made, the last answer and when the next
attempt is due (``sync.webhooks.delivery`` keeps it); this module reads it for the owner and adds
test deliveries, which go the same way as any other: through the dispatcher's pass of due
deliveries, signed, retried and recorded alike.
"""

from __future__ import annotations

import base64
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Row, Select, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from sync.errors import WebhookNotFound
from sync.model import TEST_EVENT_TYPE
from sync.rows import record_from
from sync.tables import outbox_events, webhook_deliveries, webhooks

#: The most deliveries one request may list.
MAX_LISTED = 100


@dataclass(frozen=True)
class Delivery:
    id: int
    webhook_id: int
    event_id: uuid.UUID
    event_type: str
    status: str
    attempts: int
    created_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None
    last_error: str | None
    #: For a PENDING delivery: when its next attempt is due (or, while one is under way,
    #: until when that attempt holds it).
    next_attempt_at: datetime | None
    delivered_at: datetime | None


_COLUMNS = (
    webhook_deliveries.c.id,
    webhook_deliveries.c.webhook_id,
    webhook_deliveries.c.event_id,
    outbox_events.c.event_type,
    webhook_deliveries.c.status,
    webhook_deliveries.c.attempts,
    webhook_deliveries.c.created_at,
    webhook_deliveries.c.last_attempt_at,
    webhook_deliveries.c.last_status_code,
    webhook_deliveries.c.last_error,
    webhook_deliveries.c.next_attempt_at,
    webhook_deliveries.c.delivered_at,
)


def _delivery(row: Row) -> Delivery:
    return record_from(Delivery, row)


def rows_to_deliveries(rows: Iterable[Row]) -> list[Delivery]:
    return [_delivery(row) for row in rows]


def deliveries_query(*, webhook_id: int, client_id: int | None, first: int) -> Select:
    """The newest ``first`` deliveries of a webhook that is not deleted, of ``client_id``
    (or of anyone's, ``None``, for admins); read them with ``rows_to_deliveries``."""
    statement = (
        select(*_COLUMNS)
        .join(outbox_events, outbox_events.c.event_id == webhook_deliveries.c.event_id)
        .join(webhooks, webhooks.c.id == webhook_deliveries.c.webhook_id)
        .where(webhook_deliveries.c.webhook_id == webhook_id, webhooks.c.deleted_at.is_(None))
        .order_by(webhook_deliveries.c.id.desc())
        .limit(min(first, MAX_LISTED))
    )
    if client_id is not None:
        statement = statement.where(webhooks.c.client_id == client_id)
    return statement


def _webhook_global_id(webhook_id: int) -> str:
    """The ID the API gives this webhook (``hub.ids.encode_id("Webhook", id)``)."""
    return base64.b64encode(f"Webhook:{webhook_id}".encode()).decode()


async def send_test_delivery(
    *, session: AsyncSession, webhook_id: int, client_id: int | None, now: datetime
) -> Delivery:
    """Record a ``webhook.test`` event for one webhook and a delivery of it due now; the
    dispatcher sends it on its next pass. The event is written already dispatched, so no
    other webhook gets it. ``client_id`` None acts as an admin.

    Raises WebhookNotFound for an unknown, deleted or another client's webhook.
    """
    owned = select(webhooks.c.id).where(
        webhooks.c.id == webhook_id, webhooks.c.deleted_at.is_(None)
    )
    if client_id is not None:
        owned = owned.where(webhooks.c.client_id == client_id)
    # FOR SHARE: a concurrent delete waits until this delivery is recorded, then ends it.
    if (await session.execute(owned.with_for_update(read=True))).one_or_none() is None:
        raise WebhookNotFound("no such webhook", field=("id",))
    event_id = uuid.uuid4()
    await session.execute(
        insert(outbox_events).values(
            event_id=event_id,
            event_type=TEST_EVENT_TYPE,
            version=1,
            member_id=None,
            payload={"webhook_id": _webhook_global_id(webhook_id)},
            occurred_at=now,
            dispatched_at=now,
        )
    )
    row = (
        await session.execute(
            insert(webhook_deliveries)
            .values(event_id=event_id, webhook_id=webhook_id, created_at=now, next_attempt_at=now)
            .returning(webhook_deliveries.c.id)
        )
    ).one()
    return Delivery(
        id=row.id,
        webhook_id=webhook_id,
        event_id=event_id,
        event_type=TEST_EVENT_TYPE,
        status="PENDING",
        attempts=0,
        created_at=now,
        last_attempt_at=None,
        last_status_code=None,
        last_error=None,
        next_attempt_at=now,
        delivered_at=None,
    )

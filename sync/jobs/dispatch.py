"""The outbox dispatcher: committed events become webhook deliveries and dramatiq messages.

A pass claims undispatched events in id order (``FOR UPDATE SKIP LOCKED``, so dispatchers
in several processes take disjoint batches), records one delivery per (event, webhook that
subscribed and may receive it), marks the events dispatched and commits; only then does it
send one message per delivery. Each delivery is held for the policy's lease while its
message is out; the same pass also sends the deliveries that are due (retries, and ones
whose lease ran out because a process died before sending or while attempting). So a
crash at any point loses nothing: the table says what is left to do.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime

import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sync.model import ADMIN_EVENT_TYPES, ADMIN_SCOPE, MEMBERS_READ_SCOPE, DeliveryPolicy

log = structlog.get_logger("memberhub.outbox")

#: Sends one delivery message: (delivery id, attempts made so far).
Send = Callable[[int, int], object]

_CLAIM_EVENTS = text(
    """
    UPDATE outbox_events SET dispatched_at = :now
     WHERE id IN (SELECT id FROM outbox_events WHERE dispatched_at IS NULL
                   ORDER BY id LIMIT :batch FOR UPDATE SKIP LOCKED)
    RETURNING id
    """
)

# Who may receive what is decided by the owner's scopes now; sync.webhooks.delivery checks again
# when attempting, as the owner may have lost them since.
_RECORD_DELIVERIES = text(
    """
    INSERT INTO webhook_deliveries (event_id, webhook_id, created_at, next_attempt_at)
    SELECT e.event_id, w.id, :now, :held_until
      FROM outbox_events e
      JOIN webhooks w ON w.active AND e.event_type = ANY (w.events)
      JOIN api_clients k ON k.id = w.client_id AND k.revoked_at IS NULL
     WHERE e.id = ANY (:event_ids)
       AND (:admin_scope = ANY (k.scopes)
            OR (e.event_type <> ALL (:admin_events) AND :read_scope = ANY (k.scopes)))
     ORDER BY e.id, w.id
    ON CONFLICT (event_id, webhook_id) DO NOTHING
    RETURNING id, attempts
    """
)

_CLAIM_DUE = text(
    """
    UPDATE webhook_deliveries SET next_attempt_at = :held_until
     WHERE id IN (SELECT id FROM webhook_deliveries
                   WHERE status = 'PENDING' AND next_attempt_at <= :now
                   ORDER BY next_attempt_at LIMIT :batch FOR UPDATE SKIP LOCKED)
    RETURNING id, attempts
    """
)

# A send that failed with an exception leaves its deliveries due at once instead of
# waiting out the lease.
_RELEASE = text(
    """
    UPDATE webhook_deliveries SET next_attempt_at = :now
     WHERE id = ANY (:ids) AND status = 'PENDING' AND next_attempt_at = :held_until
    """
)


@dataclass
class DispatchReport:
    events: int = 0
    messages: int = 0


async def record_deliveries(
    session: AsyncSession, *, now: datetime, policy: DeliveryPolicy, batch: int = 500
) -> tuple[int, list[tuple[int, int]]]:
    """The first half of a pass, in the caller's transaction: claim a batch of events,
    record their deliveries, mark them dispatched. Answers (events claimed, deliveries as
    (id, attempts)); the caller commits, then sends them."""
    event_ids = sorted(
        (await session.execute(_CLAIM_EVENTS, {"now": now, "batch": batch})).scalars()
    )
    if not event_ids:
        return 0, []
    rows = await session.execute(
        _RECORD_DELIVERIES,
        {
            "now": now,
            "held_until": now + policy.lease,
            "event_ids": event_ids,
            "admin_scope": ADMIN_SCOPE,
            "read_scope": MEMBERS_READ_SCOPE,
            "admin_events": sorted(ADMIN_EVENT_TYPES),
        },
    )
    return len(event_ids), sorted((row.id, row.attempts) for row in rows)


async def _claim_due(
    session: AsyncSession, *, now: datetime, policy: DeliveryPolicy, batch: int
) -> list[tuple[int, int]]:
    rows = await session.execute(
        _CLAIM_DUE, {"now": now, "held_until": now + policy.lease, "batch": batch}
    )
    return sorted((row.id, row.attempts) for row in rows)


async def _send_all(
    session_factory: async_sessionmaker[AsyncSession],
    send: Send,
    deliveries: Sequence[tuple[int, int]],
    *,
    now: datetime,
    policy: DeliveryPolicy,
) -> None:
    sent = 0
    try:
        for delivery_id, attempts in deliveries:
            send(delivery_id, attempts)
            sent += 1
    except Exception:
        unsent = [delivery_id for delivery_id, _ in deliveries[sent:]]
        async with session_factory() as session, session.begin():
            await session.execute(
                _RELEASE, {"ids": unsent, "now": now, "held_until": now + policy.lease}
            )
        raise


async def dispatch_outbox(
    *,
    session_factory: async_sessionmaker[AsyncSession],
    send: Send,
    now: datetime,
    policy: DeliveryPolicy,
    batch: int = 500,
) -> DispatchReport:
    """Dispatch every committed event and send every due delivery, batch by batch."""
    report = DispatchReport()
    while True:
        async with session_factory() as session, session.begin():
            events, deliveries = await record_deliveries(
                session, now=now, policy=policy, batch=batch
            )
        await _send_all(session_factory, send, deliveries, now=now, policy=policy)
        report.events += events
        report.messages += len(deliveries)
        if events < batch:
            break
    while True:
        async with session_factory() as session, session.begin():
            due = await _claim_due(session, now=now, policy=policy, batch=batch)
        await _send_all(session_factory, send, due, now=now, policy=policy)
        report.messages += len(due)
        if len(due) < batch:
            break
    if report.events or report.messages:
        log.info("outbox dispatched", events=report.events, messages=report.messages)
    return report


async def run_dispatcher(
    stopping: threading.Event,
    *,
    session_factory: Callable[[], async_sessionmaker[AsyncSession]],
    send: Send,
    now: Callable[[], datetime],
    policy: DeliveryPolicy,
    poll_seconds: float = 0.5,
) -> None:
    """Dispatch until ``stopping`` is set, pausing ``poll_seconds`` when nothing was left."""
    while not stopping.is_set():
        try:
            await dispatch_outbox(
                session_factory=session_factory(), send=send, now=now(), policy=policy
            )
        except Exception:
            # The database or Redis is away: the table keeps the work until it is back.
            log.exception("outbox dispatch failed")
        await asyncio.to_thread(stopping.wait, poll_seconds)

"""One attempt to deliver one event to one webhook: claim it, POST it, record the outcome.

No transaction is open during the HTTP request: the claim commits first (counting the
attempt and holding the delivery for the policy's lease), the outcome commits after.
A duplicate message for the same attempt finds the claim taken and does nothing.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

import httpx
import structlog
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from sync.events import WebhookDisabled
from sync.model import DeliveryPolicy, Outcome, classify_response, may_receive, retry_delay
from sync.model import sees_personal_data as owner_sees_personal_data
from sync.outbox import append_event
from sync.webhooks.egress import EgressPolicy, RefusedDestination, check_url
from sync.webhooks.envelope import OutboxEvent, delivery_headers, encode_body, envelope

log = structlog.get_logger("memberhub.webhooks")

#: Longest error text kept on a delivery (a receiver's error page can be large).
MAX_ERROR_LENGTH = 300

_CLAIM = text(
    """
    WITH claimed AS (
        UPDATE webhook_deliveries
           SET attempts = attempts + 1, last_attempt_at = :now, next_attempt_at = :held_until
         WHERE id = :id AND status = 'PENDING' AND attempts = :attempt
        RETURNING id, event_id, webhook_id, attempts, created_at
    )
    SELECT c.id, c.webhook_id, c.attempts, c.created_at,
           w.url, w.secret, w.disabled_at, w.deleted_at, k.scopes, k.revoked_at,
           e.event_id, e.event_type, e.version, e.member_id, e.payload, e.occurred_at
      FROM claimed c
      JOIN webhooks w ON w.id = c.webhook_id
      JOIN api_clients k ON k.id = w.client_id
      JOIN outbox_events e ON e.event_id = c.event_id
    """
)

_FINISH = text(
    """
    UPDATE webhook_deliveries
       SET status = :status, next_attempt_at = :next_attempt_at, delivered_at = :delivered_at,
           last_status_code = :status_code, last_error = :error
     WHERE id = :id AND attempts = :attempts AND status = 'PENDING'
    """
)


@dataclass(frozen=True)
class Attempt:
    delivery_id: int
    webhook_id: int
    #: Attempts so far, this one included.
    number: int
    created_at: datetime
    url: str
    secret: str
    scopes: tuple[str, ...]
    event: OutboxEvent
    #: Why this webhook may no longer receive the event, if it may not.
    refusal: str | None


def _attempt(row) -> Attempt:  # type: ignore[no-untyped-def]
    event = OutboxEvent(
        event_id=row.event_id,
        event_type=row.event_type,
        version=row.version,
        member_id=row.member_id,
        payload=row.payload,
        occurred_at=row.occurred_at,
    )
    scopes = tuple(row.scopes)
    refusal = None
    if row.deleted_at is not None:
        refusal = "webhook deleted"
    elif row.disabled_at is not None:
        refusal = "webhook disabled"
    elif row.revoked_at is not None:
        refusal = "client revoked"
    elif not may_receive(scopes, event.event_type):
        refusal = f"client may not receive {event.event_type}"
    return Attempt(
        delivery_id=row.id,
        webhook_id=row.webhook_id,
        number=row.attempts,
        created_at=row.created_at,
        url=row.url,
        secret=row.secret,
        scopes=scopes,
        event=event,
        refusal=refusal,
    )


async def claim_attempt(
    session: AsyncSession, *, delivery_id: int, attempt: int, now: datetime, policy: DeliveryPolicy
) -> Attempt | None:
    """Count attempt ``attempt + 1`` and hold the delivery for the lease; None when this
    attempt was already made (a duplicate message) or the delivery has ended. A delivery
    the webhook may no longer receive ends here as failed."""
    row = (
        await session.execute(
            _CLAIM,
            {
                "id": delivery_id,
                "attempt": attempt,
                "now": now,
                "held_until": now + policy.lease,
            },
        )
    ).one_or_none()
    if row is None:
        return None
    claimed = _attempt(row)
    if claimed.refusal is not None:
        await _finish(session, claimed, Outcome.FAILED, None, claimed.refusal, now, None)
    return claimed


async def _finish(
    session: AsyncSession,
    attempt: Attempt,
    outcome: Outcome,
    status_code: int | None,
    error: str | None,
    now: datetime,
    next_attempt_at: datetime | None,
) -> None:
    await session.execute(
        _FINISH,
        {
            "id": attempt.delivery_id,
            "attempts": attempt.number,
            "status": "PENDING" if outcome is Outcome.RETRY else outcome.value,
            "next_attempt_at": next_attempt_at,
            "delivered_at": now if outcome is Outcome.DELIVERED else None,
            "status_code": status_code,
            "error": error,
        },
    )


async def record_outcome(
    session: AsyncSession,
    attempt: Attempt,
    *,
    status_code: int | None,
    error: str | None,
    now: datetime,
    policy: DeliveryPolicy,
    fraction: Callable[[], float] = random.random,
    refused: bool = False,
) -> Outcome:
    """Record what the receiver answered; a failure may disable the webhook (see
    ``DeliveryPolicy.disable_after``), which publishes ``webhook.disabled`` once. A
    ``refused`` attempt (the URL leads where webhooks may not go) fails for good."""
    outcome = Outcome.FAILED if refused else classify_response(status_code)
    if outcome is Outcome.RETRY and now >= attempt.created_at + policy.retry_for:
        outcome = Outcome.FAILED
        error = f"gave up after {attempt.number} attempts: {error}"
    next_attempt_at = (
        now + retry_delay(attempt.number, policy, fraction=fraction)
        if outcome is Outcome.RETRY
        else None
    )
    await _finish(session, attempt, outcome, status_code, error, now, next_attempt_at)
    if outcome is Outcome.DELIVERED:
        await session.execute(
            text(
                "UPDATE webhooks SET first_failure_at = NULL"
                " WHERE id = :id AND first_failure_at IS NOT NULL"
            ),
            {"id": attempt.webhook_id},
        )
    else:
        await _count_failure(session, attempt, error=error, now=now, policy=policy)
    return outcome


async def _count_failure(
    session: AsyncSession,
    attempt: Attempt,
    *,
    error: str | None,
    now: datetime,
    policy: DeliveryPolicy,
) -> None:
    await session.execute(
        text(
            "UPDATE webhooks SET first_failure_at = COALESCE(first_failure_at, :failed_at)"
            " WHERE id = :id"
        ),
        # The run of failures began when this attempt was made, not when it timed out.
        {"id": attempt.webhook_id, "failed_at": now},
    )
    # The row lock of this UPDATE makes exactly one transaction the one that disables it.
    disabled = (
        await session.execute(
            text(
                """
                UPDATE webhooks SET disabled_at = :now
                 WHERE id = :id AND disabled_at IS NULL AND deleted_at IS NULL
                   AND first_failure_at <= :since
                RETURNING id, client_id, url, first_failure_at
                """
            ),
            {"id": attempt.webhook_id, "now": now, "since": now - policy.disable_after},
        )
    ).one_or_none()
    if disabled is None:
        return
    log.warning(
        "webhook disabled", webhook_id=disabled.id, failing_since=str(disabled.first_failure_at)
    )
    await append_event(
        session,
        WebhookDisabled(
            member_id=None,
            webhook_id=disabled.id,
            client_id=disabled.client_id,
            url=disabled.url,
            failing_since=disabled.first_failure_at.isoformat(),
            last_error=error,
        ),
    )


@dataclass(frozen=True)
class Response:
    status_code: int | None
    error: str | None
    #: The hub refused to connect (``sync.webhooks.egress``): no retry can succeed.
    refused: bool = False


async def post(
    http: httpx.AsyncClient,
    attempt: Attempt,
    *,
    now: datetime,
    policy: DeliveryPolicy,
    egress: EgressPolicy,
) -> Response:
    """POST the signed envelope to the attempt's URL, if it may still be reached (it may
    have been registered under an older rule, or the allow-list changed since)."""
    try:
        check_url(attempt.url, egress)
    except RefusedDestination as refusal:
        return Response(None, f"refused: {refusal}"[:MAX_ERROR_LENGTH], refused=True)
    body = encode_body(
        envelope(attempt.event, personal_data=owner_sees_personal_data(attempt.scopes))
    )
    timestamp = int(now.timestamp())
    headers = delivery_headers(attempt.event, secret=attempt.secret, timestamp=timestamp, body=body)
    try:
        response = await http.post(
            attempt.url,
            content=body,
            headers=headers,
            timeout=policy.timeout.total_seconds(),
            follow_redirects=False,
        )
    except RefusedDestination as refusal:
        return Response(None, f"refused: {refusal}"[:MAX_ERROR_LENGTH], refused=True)
    except httpx.HTTPError as exc:
        return Response(None, f"{type(exc).__name__}: {exc}"[:MAX_ERROR_LENGTH])
    if 200 <= response.status_code < 300:
        return Response(response.status_code, None)
    return Response(
        response.status_code,
        f"HTTP {response.status_code}: {response.text}"[:MAX_ERROR_LENGTH],
    )


async def deliver(
    *,
    session_factory: async_sessionmaker[AsyncSession],
    http: httpx.AsyncClient,
    delivery_id: int,
    attempt: int,
    now: Callable[[], datetime],
    policy: DeliveryPolicy,
    egress: EgressPolicy,
) -> Outcome | None:
    """Make attempt ``attempt + 1`` of a delivery; None when there was nothing to do."""
    async with session_factory() as session, session.begin():
        claimed = await claim_attempt(
            session, delivery_id=delivery_id, attempt=attempt, now=now(), policy=policy
        )
    if claimed is None:
        return None
    if claimed.refusal is not None:
        return Outcome.FAILED
    response = await post(http, claimed, now=now(), policy=policy, egress=egress)
    async with session_factory() as session, session.begin():
        outcome = await record_outcome(
            session,
            claimed,
            status_code=response.status_code,
            error=response.error,
            now=now(),
            policy=policy,
            refused=response.refused,
        )
    log.info(
        "webhook delivery",
        delivery_id=claimed.delivery_id,
        webhook_id=claimed.webhook_id,
        event_type=claimed.event.event_type,
        attempt=claimed.number,
        status_code=response.status_code,
        outcome=outcome.value,
    )
    return outcome

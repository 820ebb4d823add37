"""Webhook registrations: register, delete, list. Delivery lives in ``sync.webhooks.delivery``."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import Row, Select, insert, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from sync.errors import InvalidWebhook, WebhookNotFound
from sync.model import subscribable_event_types
from sync.rows import record_from
from sync.tables import webhooks
from sync.webhooks.egress import EgressPolicy, RefusedDestination, check_url
from sync.webhooks.envelope import new_secret

MAX_URL_LENGTH = 2048


@dataclass(frozen=True)
class Webhook:
    id: int
    client_id: int
    url: str
    events: tuple[str, ...]
    active: bool
    created_at: datetime
    disabled_at: datetime | None


_COLUMNS = (
    webhooks.c.id,
    webhooks.c.client_id,
    webhooks.c.url,
    webhooks.c.events,
    webhooks.c.active,
    webhooks.c.created_at,
    webhooks.c.disabled_at,
)


def _webhook(row: Row) -> Webhook:
    return record_from(Webhook, row, events=tuple(row.events))


def validate_url(url: str, egress: EgressPolicy) -> str:
    """The URL, stripped; InvalidWebhook when it is malformed or leads where webhooks may
    not go (``sync.webhooks.egress.check_url``)."""
    url = url.strip()
    if len(url) > MAX_URL_LENGTH or any(c.isspace() or ord(c) < 32 for c in url):
        raise InvalidWebhook("the URL is too long or contains spaces", field=("url",))
    try:
        parts = urlsplit(url)
        hostname = parts.hostname
        parts.port  # noqa: B018 (a port out of range raises here)
    except ValueError as error:
        raise InvalidWebhook("the URL is malformed", field=("url",)) from error
    if parts.scheme.lower() not in ("http", "https") or not hostname:
        raise InvalidWebhook("the URL must be http:// or https:// with a host", field=("url",))
    try:
        check_url(url, egress)
    except RefusedDestination as error:
        raise InvalidWebhook(str(error), field=("url",)) from error
    return url


def validate_events(events: Sequence[str], *, admin: bool) -> tuple[str, ...]:
    """Known event types the client may receive, duplicates dropped, order kept."""
    if not events:
        raise InvalidWebhook("name at least one event type", field=("events",))
    allowed = subscribable_event_types(admin=admin)
    for index, event_type in enumerate(events):
        if event_type not in allowed:
            raise InvalidWebhook(
                f"{event_type!r} is not an event type this client can receive",
                field=("events", str(index)),
            )
    return tuple(dict.fromkeys(events))


async def register_webhook(
    *,
    session: AsyncSession,
    client_id: int,
    url: str,
    events: Sequence[str],
    admin: bool,
    now: datetime,
    egress: EgressPolicy,
) -> tuple[Webhook, str]:
    """Register a webhook for ``client_id`` and answer it with its signing secret, which
    exists in clear in this answer only (callers show it once).

    Raises InvalidWebhook (with the field at fault) for a bad URL or event type.
    """
    url = validate_url(url, egress)
    event_types = validate_events(events, admin=admin)
    secret = new_secret()
    row = (
        await session.execute(
            insert(webhooks)
            .values(
                client_id=client_id,
                url=url,
                events=list(event_types),
                secret=secret,
                created_at=now,
            )
            .returning(*_COLUMNS)
        )
    ).one()
    return _webhook(row), secret


async def delete_webhook(
    *, session: AsyncSession, webhook_id: int, client_id: int | None, now: datetime
) -> Webhook:
    """Stop deliveries to a webhook (its pending deliveries end as failed when next tried).

    ``client_id`` None acts as an admin, for any client's webhook. Raises WebhookNotFound
    for an unknown, already deleted or another client's webhook.
    """
    statement = (
        update(webhooks)
        .where(webhooks.c.id == webhook_id, webhooks.c.deleted_at.is_(None))
        .values(deleted_at=now)
        .returning(*_COLUMNS)
    )
    if client_id is not None:
        statement = statement.where(webhooks.c.client_id == client_id)
    row = (await session.execute(statement)).one_or_none()
    if row is None:
        raise WebhookNotFound("no such webhook", field=("id",))
    return _webhook(row)


def webhooks_query(*, client_id: int | None, webhook_id: int | None = None) -> Select:
    """Webhooks that are not deleted, of one client or (``None``, for admins) of all;
    read the rows with ``rows_to_webhooks``."""
    statement = select(*_COLUMNS).where(webhooks.c.deleted_at.is_(None)).order_by(webhooks.c.id)
    if client_id is not None:
        statement = statement.where(webhooks.c.client_id == client_id)
    if webhook_id is not None:
        statement = statement.where(webhooks.c.id == webhook_id)
    return statement


def rows_to_webhooks(rows: Iterable[Row]) -> list[Webhook]:
    return [_webhook(row) for row in rows]

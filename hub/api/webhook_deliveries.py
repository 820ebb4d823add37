"""A webhook's recent deliveries and test deliveries, for its owner
(``sync.webhooks.delivery_log``)."""

from __future__ import annotations

import enum
from datetime import datetime

import strawberry
from graphql import GraphQLError

from hub.api.pagination import check_page_size
from hub.errors import UserError, to_user_error
from hub.http.permissions import requires
from hub.http.principal import Principal, Scope
from hub.ids import InvalidGlobalId, decode_int_id, encode_id
from sync.errors import SyncError, WebhookNotFound
from sync.model import TEST_EVENT_TYPE
from sync.webhooks import delivery_log as service


@strawberry.enum
class WebhookDeliveryStatus(enum.Enum):
    PENDING = "PENDING"
    DELIVERED = "DELIVERED"
    FAILED = "FAILED"


@strawberry.type(
    description="One event on its way to one webhook, with the outcome of its last attempt."
)
class WebhookDelivery:
    id: strawberry.ID
    webhook_id: strawberry.ID
    event_id: str = strawberry.field(
        description="The event's ID: the envelope's `id` and the `webhook-id` header, the "
        "same on every attempt."
    )
    event_type: str
    test: bool = strawberry.field(description="A test delivery (`sendTestWebhook`).")
    status: WebhookDeliveryStatus
    attempts: int = strawberry.field(description="Attempts made so far.")
    created_at: datetime
    last_attempt_at: datetime | None
    last_status_code: int | None = strawberry.field(
        description="The receiver's HTTP status at the last attempt; null when none came."
    )
    last_error: str | None = strawberry.field(
        description="Why the last attempt failed (the start of the receiver's answer, a "
        "network error, or why the hub refused to connect)."
    )
    next_attempt_at: datetime | None = strawberry.field(
        description="While PENDING: when the next attempt is due."
    )
    delivered_at: datetime | None

    @classmethod
    def from_domain(cls, delivery: service.Delivery) -> WebhookDelivery:
        return cls(
            id=strawberry.ID(encode_id("WebhookDelivery", delivery.id)),
            webhook_id=strawberry.ID(encode_id("Webhook", delivery.webhook_id)),
            event_id=str(delivery.event_id),
            event_type=delivery.event_type,
            test=delivery.event_type == TEST_EVENT_TYPE,
            status=WebhookDeliveryStatus(delivery.status),
            attempts=delivery.attempts,
            created_at=delivery.created_at,
            last_attempt_at=delivery.last_attempt_at,
            last_status_code=delivery.last_status_code,
            last_error=delivery.last_error,
            next_attempt_at=delivery.next_attempt_at if delivery.status == "PENDING" else None,
            delivered_at=delivery.delivered_at,
        )


@strawberry.type
class WebhookDeliveryPayload:
    delivery: WebhookDelivery | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _owner(principal: Principal) -> int | None:
    return None if principal.is_admin else principal.client_id


@strawberry.type
class WebhookDeliveryQuery:
    @strawberry.field(
        description="A webhook's most recent deliveries, newest first (at most 100); "
        "empty for a webhook the caller does not own."
    )
    @requires(Scope.WEBHOOKS)
    async def webhook_deliveries(
        self, info: strawberry.Info, webhook_id: strawberry.ID, first: int | None = 20
    ) -> list[WebhookDelivery]:
        size = 20 if first is None else first
        check_page_size(size)
        principal: Principal = info.context.principal
        try:
            webhook = decode_int_id(webhook_id, "Webhook")
        except InvalidGlobalId as error:
            raise GraphQLError(str(error), extensions={"code": "INVALID_INPUT"}) from error
        if principal.client_id is None:
            return []
        rows = await info.context.execute(
            service.deliveries_query(webhook_id=webhook, client_id=_owner(principal), first=size)
        )
        return [WebhookDelivery.from_domain(d) for d in service.rows_to_deliveries(rows)]


@strawberry.type
class WebhookDeliveryMutation:
    @strawberry.mutation(
        description="Send a `webhook.test` event to one webhook now, signed and retried like "
        "any delivery; follow it in `webhookDeliveries`."
    )
    @requires(Scope.WEBHOOKS)
    async def send_test_webhook(
        self, info: strawberry.Info, id: strawberry.ID
    ) -> WebhookDeliveryPayload:
        principal: Principal = info.context.principal
        now = info.context.now()
        try:
            webhook_id = decode_int_id(id, "Webhook")
            if principal.client_id is None:
                raise WebhookNotFound("no such webhook", field=("id",))
            delivery = await info.context.transact(
                lambda session: service.send_test_delivery(
                    session=session, webhook_id=webhook_id, client_id=_owner(principal), now=now
                )
            )
        except InvalidGlobalId as error:
            return WebhookDeliveryPayload(user_errors=[to_user_error(error, field_prefix=("id",))])
        except SyncError as error:
            return WebhookDeliveryPayload(user_errors=[to_user_error(error)])
        return WebhookDeliveryPayload(delivery=WebhookDelivery.from_domain(delivery))

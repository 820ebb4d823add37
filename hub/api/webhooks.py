"""Webhooks: admin and partner clients register URLs for event types
(``sync.webhooks.registrations``)."""

from __future__ import annotations

from datetime import datetime

import strawberry

from hub.api.node import Node, node_loader
from hub.errors import UserError, to_user_error, user_error
from hub.http.permissions import requires
from hub.http.principal import Principal, Scope
from hub.ids import InvalidGlobalId, decode_int_id, encode_id
from sync.errors import SyncError, WebhookNotFound
from sync.webhooks import registrations as service


@strawberry.type(name="Webhook")
class Webhook(Node):
    id: strawberry.ID
    url: str
    events: list[str]
    active: bool
    created_at: datetime

    @classmethod
    def from_domain(cls, webhook: service.Webhook) -> Webhook:
        return cls(
            id=strawberry.ID(encode_id("Webhook", webhook.id)),
            url=webhook.url,
            events=list(webhook.events),
            active=webhook.active,
            created_at=webhook.created_at,
        )


@strawberry.input
class WebhookInput:
    url: str
    events: list[str] = strawberry.field(
        description="Event types, e.g. member.created, member.merged, points.credited, "
        "tier.changed, segment.entered."
    )


@strawberry.type
class WebhookPayload:
    webhook: Webhook | None = None
    signing_secret: str | None = strawberry.field(
        default=None,
        description="Shown once: the key that signs every delivery, in the Standard "
        "Webhooks form (whsec_ and the base64 of the key).",
    )
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _owner(principal: Principal) -> int | None:
    """Whose webhooks the caller sees: an admin all (None), any other client its own."""
    return None if principal.is_admin else principal.client_id


@node_loader("Webhook")
async def load_webhook(info: strawberry.Info, key: str) -> Webhook | None:
    principal: Principal = info.context.principal
    if not key.isdigit() or not principal.has(Scope.WEBHOOKS) or principal.client_id is None:
        return None
    rows = await info.context.execute(
        service.webhooks_query(client_id=_owner(principal), webhook_id=int(key))
    )
    found = service.rows_to_webhooks(rows)
    return Webhook.from_domain(found[0]) if found else None


@strawberry.type
class WebhookQuery:
    @strawberry.field(description="The caller's webhooks; an admin sees every client's.")
    @requires(Scope.WEBHOOKS)
    async def webhooks(self, info: strawberry.Info) -> list[Webhook]:
        principal: Principal = info.context.principal
        if principal.client_id is None:
            return []
        rows = await info.context.execute(service.webhooks_query(client_id=_owner(principal)))
        return [Webhook.from_domain(w) for w in service.rows_to_webhooks(rows)]


@strawberry.type
class WebhookMutation:
    @strawberry.mutation(
        description="Deliver the named events to a URL; the signing secret is shown only here."
    )
    @requires(Scope.WEBHOOKS)
    async def register_webhook(self, info: strawberry.Info, input: WebhookInput) -> WebhookPayload:
        principal: Principal = info.context.principal
        client_id = principal.client_id
        if client_id is None:
            return WebhookPayload(
                user_errors=[user_error("FORBIDDEN", "webhooks belong to API clients")]
            )
        now = info.context.now()
        try:
            webhook, secret = await info.context.transact(
                lambda session: service.register_webhook(
                    session=session,
                    client_id=client_id,
                    url=input.url,
                    events=input.events,
                    admin=principal.is_admin,
                    now=now,
                    egress=info.context.settings.webhook_egress,
                )
            )
        except SyncError as error:
            return WebhookPayload(user_errors=[to_user_error(error, field_prefix=("input",))])
        return WebhookPayload(webhook=Webhook.from_domain(webhook), signing_secret=secret)

    @strawberry.mutation(description="Stop deliveries to a webhook.")
    @requires(Scope.WEBHOOKS)
    async def delete_webhook(self, info: strawberry.Info, id: strawberry.ID) -> WebhookPayload:
        principal: Principal = info.context.principal
        now = info.context.now()
        try:
            webhook_id = decode_int_id(id, "Webhook")
            if principal.client_id is None:
                raise WebhookNotFound("no such webhook", field=("id",))
            webhook = await info.context.transact(
                lambda session: service.delete_webhook(
                    session=session,
                    webhook_id=webhook_id,
                    client_id=_owner(principal),
                    now=now,
                )
            )
        except InvalidGlobalId as error:
            return WebhookPayload(user_errors=[to_user_error(error, field_prefix=("id",))])
        except SyncError as error:
            return WebhookPayload(user_errors=[to_user_error(error)])
        return WebhookPayload(webhook=Webhook.from_domain(webhook))

"""Events the sync package publishes about the hub's own operation (admin events)."""

from __future__ import annotations

from dataclasses import dataclass

from bus.hooks import DomainEvent


@dataclass(frozen=True, kw_only=True)
class WebhookDisabled(DomainEvent):
    """Every delivery to ``webhook_id`` failed for the policy's ``disable_after``."""

    event_type = "webhook.disabled"
    webhook_id: int
    client_id: int
    url: str
    failing_since: str
    last_error: str | None

"""Events the ledger publishes on the event bus (``bus.hooks``); the outbox records them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from bus.hooks import DomainEvent


@dataclass(frozen=True, kw_only=True)
class PointsPosted(DomainEvent):
    entry_id: int
    kind: str
    bucket: str
    #: Signed, as on the entry.
    amount: int
    balance_after: int
    channel: str
    store_id: str | None
    reference: str | None
    created_at: datetime


@dataclass(frozen=True, kw_only=True)
class PointsCredited(PointsPosted):
    event_type = "points.credited"
    expires_at: datetime | None = None


@dataclass(frozen=True, kw_only=True)
class PointsDebited(PointsPosted):
    event_type = "points.debited"


@dataclass(frozen=True, kw_only=True)
class PointsExpired(PointsPosted):
    event_type = "points.expired"

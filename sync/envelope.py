"""The JSON a webhook receiver gets, and the signature that proves it came from the hub.

Envelope (documented in the README)::

    {"id": "<event UUID>", "type": "points.credited", "version": 1,
     "occurredAt": "2026-11-21T02:00:00+00:00", "memberId": "<global ID>" | null,
     "data": {...the event's fields...}}

Signature: ``X-MemberHub-Signature: sha256=<hex HMAC-SHA256(secret, f"{timestamp}.{body}")>``
with ``timestamp`` the ``X-MemberHub-Timestamp`` header (Unix seconds of the attempt).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from sync.privacy import without_personal_data

EVENT_ID_HEADER = "X-MemberHub-Event-Id"
EVENT_TYPE_HEADER = "X-MemberHub-Event-Type"
TIMESTAMP_HEADER = "X-MemberHub-Timestamp"
SIGNATURE_HEADER = "X-MemberHub-Signature"


@dataclass(frozen=True)
class OutboxEvent:
    event_id: uuid.UUID
    event_type: str
    version: int
    member_id: int | None
    payload: dict[str, Any]
    occurred_at: datetime


def member_global_id(member_id: int) -> str:
    """The Relay global ID the API gives this member (``hub.ids.encode_id("Member", id)``)."""
    return base64.b64encode(f"Member:{member_id}".encode()).decode()


def envelope(event: OutboxEvent, *, personal_data: bool) -> dict[str, Any]:
    """``personal_data`` False (a receiver without ``pii:read``) strips personal fields."""
    data = {k: v for k, v in event.payload.items() if k != "member_id"}
    return {
        "id": str(event.event_id),
        "type": event.event_type,
        "version": event.version,
        "occurredAt": event.occurred_at.isoformat(),
        "memberId": None if event.member_id is None else member_global_id(event.member_id),
        "data": data if personal_data else without_personal_data(data),
    }


def encode_body(document: dict[str, Any]) -> bytes:
    # Sorted keys: every attempt of one delivery sends the same bytes.
    return orjson.dumps(document, option=orjson.OPT_SORT_KEYS)


def signature(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def delivery_headers(
    event: OutboxEvent, *, secret: str, timestamp: int, body: bytes
) -> dict[str, str]:
    return {
        "Content-Type": "application/json",
        "User-Agent": "MemberHub-Webhooks/1",
        EVENT_ID_HEADER: str(event.event_id),
        EVENT_TYPE_HEADER: event.event_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }

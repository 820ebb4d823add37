"""The JSON a webhook receiver gets, and the signature that proves it came from the hub.

Envelope (documented in the README)::

    {"id": "<event UUID>", "type": "points.credited", "version": 1,
     "occurredAt": "2026-11-21T02:00:00+00:00", "memberId": "<global ID>" | null,
     "data": {...the event's fields...}}

Signatures (docs/webhooks.md):

- Standard Webhooks: ``webhook-id`` (the event ID, the same on every attempt),
  ``webhook-timestamp`` (Unix seconds of the attempt) and ``webhook-signature:
  v1,<base64 HMAC-SHA256(key, f"{id}.{timestamp}.{body}")>``, the key being the base64
  part of the ``whsec_`` secret decoded, so the specification's libraries verify them.
- Deprecated, kept while receivers move: ``X-MemberHub-Signature: sha256=<hex
  HMAC-SHA256(secret, f"{timestamp}.{body}")>`` with ``X-MemberHub-Timestamp``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import secrets
import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from sync.webhooks.privacy import without_personal_data

EVENT_ID_HEADER = "X-MemberHub-Event-Id"
EVENT_TYPE_HEADER = "X-MemberHub-Event-Type"
TIMESTAMP_HEADER = "X-MemberHub-Timestamp"
SIGNATURE_HEADER = "X-MemberHub-Signature"
STANDARD_ID_HEADER = "webhook-id"
STANDARD_TIMESTAMP_HEADER = "webhook-timestamp"
STANDARD_SIGNATURE_HEADER = "webhook-signature"

#: Secrets are ``whsec_`` and the base64 of a random key, as the specification writes them.
SECRET_PREFIX = "whsec_"


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


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode()


def signing_key(secret: str) -> bytes:
    """The key of the Standard Webhooks signature: the secret's base64 part, decoded. A
    secret issued before the hub followed the specification is URL-safe text, not base64
    (its 43 characters are never a whole number of base64 quads): it signs as its own
    bytes, the key the deprecated signature always used, so its owner keeps it."""
    encoded = secret.removeprefix(SECRET_PREFIX)
    if len(encoded) % 4 == 0:
        try:
            return base64.b64decode(encoded, validate=True)
        except binascii.Error:
            pass
    return secret.encode()


def standard_signature(secret: str, message_id: str, timestamp: int, body: bytes) -> str:
    signed = f"{message_id}.{timestamp}.".encode() + body
    mac = hmac.new(signing_key(secret), signed, hashlib.sha256)
    return "v1," + base64.b64encode(mac.digest()).decode()


def signature(secret: str, timestamp: int, body: bytes) -> str:
    """The deprecated ``X-MemberHub-Signature``."""
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def delivery_headers(
    event: OutboxEvent, *, secret: str, timestamp: int, body: bytes
) -> dict[str, str]:
    message_id = str(event.event_id)
    return {
        "Content-Type": "application/json",
        "User-Agent": "MemberHub-Webhooks/1",
        STANDARD_ID_HEADER: message_id,
        STANDARD_TIMESTAMP_HEADER: str(timestamp),
        STANDARD_SIGNATURE_HEADER: standard_signature(secret, message_id, timestamp, body),
        EVENT_ID_HEADER: str(event.event_id),
        EVENT_TYPE_HEADER: event.event_type,
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(secret, timestamp, body),
    }

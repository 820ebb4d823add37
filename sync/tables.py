"""Tables of the sync package: the transactional outbox, webhooks and their deliveries."""

from __future__ import annotations

from sqlalchemy import (
    ARRAY,
    BigInteger,
    Boolean,
    Column,
    Computed,
    DateTime,
    Identity,
    Integer,
    MetaData,
    Table,
    Text,
    UniqueConstraint,
    Uuid,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

outbox_events = Table(
    "outbox_events",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", Uuid, nullable=False, unique=True),
    Column("event_type", Text, nullable=False),
    Column("version", Integer, nullable=False),
    Column("member_id", BigInteger),
    Column("payload", JSONB, nullable=False),
    Column("occurred_at", DateTime(timezone=True), nullable=False),
    Column("dispatched_at", DateTime(timezone=True)),
)

webhooks = Table(
    "webhooks",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    #: The API client that registered it (``api_clients.id``); its scopes decide what it gets.
    Column("client_id", BigInteger, nullable=False),
    Column("url", Text, nullable=False),
    Column("events", ARRAY(Text), nullable=False),
    #: Signs every delivery; kept retrievable for that, never logged or shown again.
    Column("secret", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    #: Start of the current run of failed attempts; cleared by any success.
    Column("first_failure_at", DateTime(timezone=True)),
    Column("disabled_at", DateTime(timezone=True)),
    Column("deleted_at", DateTime(timezone=True)),
    Column("active", Boolean, Computed("disabled_at IS NULL AND deleted_at IS NULL")),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigInteger, Identity(always=True), primary_key=True),
    Column("event_id", Uuid, nullable=False),
    Column("webhook_id", BigInteger, nullable=False),
    #: PENDING until an attempt ends it DELIVERED or FAILED.
    Column("status", Text, nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    #: For PENDING: when the next attempt is due, or until when a sent one holds it.
    Column("next_attempt_at", DateTime(timezone=True)),
    Column("last_attempt_at", DateTime(timezone=True)),
    Column("last_status_code", Integer),
    Column("last_error", Text),
    Column("delivered_at", DateTime(timezone=True)),
    UniqueConstraint("event_id", "webhook_id"),
)

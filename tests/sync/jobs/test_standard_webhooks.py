"""Deliveries follow the Standard Webhooks specification: receivers verify them with its
published libraries (here the ``standardwebhooks`` package), with the secret the hub
showed at registration, and with secrets issued before the hub followed it."""

from __future__ import annotations

import base64
import json
import secrets
from datetime import UTC, datetime

import pytest
from sqlalchemy import text
from standardwebhooks import Webhook, WebhookVerificationError

from identity.events import MemberCreated
from tests.sync.jobs.webhooks_graphql import registered


@pytest.fixture
def real_time(clock):  # type: ignore[no-untyped-def]
    """Verifiers refuse a timestamp more than five minutes from their own clock."""
    clock.set(datetime.now(UTC))
    return clock


async def test_a_delivery_verifies_with_the_standardwebhooks_library(
    admin, jobs, receiver, real_time
):
    _, secret = await registered(admin, receiver.url("standard"), "member.created")
    await jobs.publish(MemberCreated(member_id=42, channel="POS"))

    await jobs.dispatch_and_drain()

    (request,) = receiver.at("standard")
    payload = Webhook(secret).verify(request.body, dict(request.headers))
    assert payload["type"] == "member.created"
    assert request.headers["webhook-id"] == payload["id"]
    assert request.headers["webhook-timestamp"] == str(int(real_time.now().timestamp()))
    assert request.headers["webhook-signature"].startswith("v1,")
    # Signed, not merely present: another key or another body does not verify.
    with pytest.raises(WebhookVerificationError):
        Webhook(base64.b64encode(secrets.token_bytes(32)).decode()).verify(
            request.body, dict(request.headers)
        )
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(request.body + b" ", dict(request.headers))
    # The headers of before stay for a deprecation period.
    assert request.headers["X-MemberHub-Signature"].startswith("sha256=")
    assert request.headers["X-MemberHub-Event-Id"] == payload["id"]


async def test_a_secret_issued_before_verifies_as_its_bytes(
    admin, jobs, receiver, real_time, engine
):
    await registered(admin, receiver.url("older"), "member.created")
    # A secret in the form the hub issued before: URL-safe text, not base64 of a key.
    older = "whsec_" + secrets.token_urlsafe(32)
    async with engine.begin() as conn:
        await conn.execute(text("UPDATE webhooks SET secret = :secret"), {"secret": older})
    await jobs.publish(MemberCreated(member_id=7, channel="WEB"))

    await jobs.dispatch_and_drain()

    (request,) = receiver.at("older")
    headers = dict(request.headers)
    as_bytes = Webhook(older.encode()).verify(request.body, headers)
    converted = "whsec_" + base64.b64encode(older.encode()).decode()
    assert Webhook(converted).verify(request.body, headers) == as_bytes
    assert json.loads(request.body)["type"] == "member.created"

"""Webhook deliveries through a real worker to a real receiver on 127.0.0.1."""

from __future__ import annotations

import json
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from sqlalchemy import select

from hub.ids import encode_id
from identity.events import IdentityLinked, MemberCreated
from sync.tables import outbox_events, webhook_deliveries
from tests.sync.jobs.webhooks_graphql import WEBHOOKS, registered

README = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def readme_verify() -> Any:
    """The receiver's verification code exactly as docs/api.md shows it."""
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), re.S)
    (code,) = [b for b in blocks if "def verify(" in b]
    namespace: dict[str, Any] = {}
    exec(code, namespace)
    return namespace["verify"]


def linked(member_id: int) -> IdentityLinked:
    return IdentityLinked(
        member_id=member_id,
        identity_type="PHONE",
        namespace=None,
        masked_value="138****8000",
        verified=True,
        channel="POS",
        phone_hash="5e8ff9bf55ba3508199d22e984129be6",
    )


async def deliveries(engine) -> list[Any]:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        rows = await conn.execute(select(webhook_deliveries).order_by(webhook_deliveries.c.id))
        return list(rows)


async def test_a_delivery_is_signed_and_carries_the_event(admin, jobs, receiver, clock):
    _, secret = await registered(admin, receiver.url("signed"), "member.created")
    await jobs.publish(MemberCreated(member_id=42, channel="POS"))

    await jobs.dispatch_and_drain()

    (request,) = receiver.at("signed")
    body = json.loads(request.body)
    verify = readme_verify()
    now = clock.now().timestamp()
    assert verify(secret, request.headers, request.body, now=now)
    assert not verify("whsec_another", request.headers, request.body, now=now)
    assert not verify(secret, request.headers, request.body + b" ", now=now)
    assert not verify(secret, request.headers, request.body, now=now + 3600)
    assert request.headers["X-MemberHub-Event-Type"] == "member.created"
    assert request.headers["X-MemberHub-Event-Id"] == body["id"]
    assert request.headers["X-MemberHub-Timestamp"] == str(int(now))
    assert body["type"] == "member.created" and body["version"] == 1
    assert body["memberId"] == encode_id("Member", 42)
    assert body["data"] == {"channel": "POS", "referrer_id": None}
    assert body["occurredAt"]


async def test_a_receiver_failing_twice_gets_the_event_three_times_with_one_id(
    admin, jobs, receiver, clock, engine
):
    await registered(admin, receiver.url("flaky"), "member.created")
    receiver.respond("flaky", 503, 500)
    await jobs.publish(MemberCreated(member_id=7, channel="WEB"))

    await jobs.dispatch_and_drain()
    clock.advance(timedelta(seconds=10))  # the first retry is due within 10 s
    await jobs.dispatch_and_drain()
    clock.advance(timedelta(seconds=20))  # the second within 20 s
    await jobs.dispatch_and_drain()
    clock.advance(timedelta(hours=2))
    await jobs.dispatch_and_drain()

    requests = receiver.at("flaky")
    ids = {r.headers["X-MemberHub-Event-Id"] for r in requests}
    assert len(requests) == 3
    assert len(ids) == 1
    assert {json.loads(r.body)["id"] for r in requests} == ids
    (delivery,) = await deliveries(engine)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("DELIVERED", 3, 200)


async def test_a_410_ends_the_retries(admin, jobs, receiver, clock, engine):
    await registered(admin, receiver.url("gone"), "member.created")
    receiver.respond("gone", 410)
    await jobs.publish(MemberCreated(member_id=8, channel="WEB"))

    await jobs.dispatch_and_drain()
    clock.advance(timedelta(hours=3))
    await jobs.dispatch_and_drain()

    assert len(receiver.at("gone")) == 1
    (delivery,) = await deliveries(engine)
    assert (delivery.status, delivery.attempts, delivery.last_status_code) == ("FAILED", 1, 410)


async def test_network_errors_and_429_are_retried(admin, jobs, receiver, clock, engine):
    await registered(admin, "http://127.0.0.1:9/closed", "member.created")
    await registered(admin, receiver.url("busy"), "member.created")
    receiver.respond("busy", 429)
    await jobs.publish(MemberCreated(member_id=9, channel="WEB"))

    await jobs.dispatch_and_drain()

    closed, busy = await deliveries(engine)
    assert closed.status == "PENDING" and closed.last_status_code is None
    assert "ConnectError" in closed.last_error
    assert busy.status == "PENDING" and busy.last_status_code == 429
    assert busy.next_attempt_at <= clock.now() + timedelta(seconds=10)


async def test_partners_without_pii_read_get_no_personal_data(graphql_client, jobs, receiver):
    plain = await graphql_client("partner")
    trusted = await graphql_client("partner", scopes=("pii:read",))
    await registered(plain, receiver.url("plain"), "identity.linked")
    await registered(trusted, receiver.url("trusted"), "identity.linked")
    await jobs.publish(linked(member_id=5))

    await jobs.dispatch_and_drain()

    (to_plain,) = receiver.at("plain")
    (to_trusted,) = receiver.at("trusted")
    plain_data = json.loads(to_plain.body)["data"]
    trusted_data = json.loads(to_trusted.body)["data"]
    assert "phone_hash" not in plain_data
    assert plain_data["masked_value"] == "138****8000"
    assert trusted_data["phone_hash"] == "5e8ff9bf55ba3508199d22e984129be6"
    assert b"5e8ff9bf55ba3508199d22e984129be6" not in to_plain.body


async def test_only_subscribed_event_types_are_delivered(admin, jobs, receiver):
    await registered(admin, receiver.url("created-only"), "member.created")
    await jobs.publish(linked(member_id=1), MemberCreated(member_id=1, channel="POS"))

    await jobs.dispatch_and_drain()

    (request,) = receiver.at("created-only")
    assert request.headers["X-MemberHub-Event-Type"] == "member.created"


async def test_three_days_of_failures_disable_a_webhook_and_tell_the_admins(
    admin, graphql_client, jobs, receiver, clock, engine
):
    partner = await graphql_client("partner")
    await registered(partner, receiver.url("down"), "member.created")
    await registered(admin, receiver.url("ops"), "webhook.disabled")
    receiver.respond("down", *[500] * 20)
    start = clock.now()

    await jobs.publish(MemberCreated(member_id=1, channel="POS"))
    await jobs.dispatch_and_drain()
    clock.set(start + timedelta(hours=25))  # past its day of retries: the first gives up
    await jobs.dispatch_and_drain()
    clock.set(start + timedelta(days=2))
    await jobs.publish(MemberCreated(member_id=2, channel="POS"))
    await jobs.dispatch_and_drain()
    active_after_two_days = (await partner.data(WEBHOOKS))["webhooks"][0]["active"]
    clock.set(start + timedelta(days=3))  # the second's retry fails: three days of failures
    await jobs.dispatch_and_drain()
    await jobs.dispatch_and_drain()  # the webhook.disabled event, to the admin's webhook
    await jobs.publish(MemberCreated(member_id=3, channel="POS"))
    await jobs.dispatch_and_drain()

    assert active_after_two_days is True
    assert (await partner.data(WEBHOOKS))["webhooks"][0]["active"] is False
    assert len(receiver.at("down")) == 4
    first = next(d for d in await deliveries(engine) if d.status == "FAILED")
    assert first.attempts == 2 and first.last_error.startswith("gave up after 2 attempts")
    (notice,) = receiver.at("ops")
    body = json.loads(notice.body)
    assert body["type"] == "webhook.disabled" and body["memberId"] is None
    assert body["data"]["url"] == receiver.url("down")
    async with engine.connect() as conn:
        types = (await conn.execute(select(outbox_events.c.event_type))).scalars().all()
    assert types.count("webhook.disabled") == 1


async def test_a_deleted_webhook_gets_nothing_more(admin, jobs, receiver, clock, engine):
    from tests.sync.jobs.webhooks_graphql import DELETE

    webhook_id, _ = await registered(admin, receiver.url("deleted"), "member.created")
    receiver.respond("deleted", 500)
    await jobs.publish(MemberCreated(member_id=1, channel="POS"))
    await jobs.dispatch_and_drain()

    await admin.data(DELETE, id=webhook_id)
    clock.advance(timedelta(minutes=5))
    await jobs.publish(MemberCreated(member_id=2, channel="POS"))
    await jobs.dispatch_and_drain()

    assert len(receiver.at("deleted")) == 1
    (delivery,) = await deliveries(engine)
    assert (delivery.status, delivery.last_error) == ("FAILED", "webhook deleted")

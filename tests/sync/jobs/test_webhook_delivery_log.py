"""A partner follows its deliveries (attempts, status codes, errors, next retry) and tries
its receiver with a test delivery, through the API."""

from __future__ import annotations

import json
from datetime import timedelta

from identity.events import MemberCreated
from tests.sync.jobs.webhooks_graphql import registered

DELIVERIES = """
query Deliveries($webhookId: ID!, $first: Int) {
  webhookDeliveries(webhookId: $webhookId, first: $first) {
    id webhookId eventId eventType test status attempts createdAt lastAttemptAt
    lastStatusCode lastError nextAttemptAt deliveredAt
  }
}
"""

SEND_TEST = """
mutation SendTest($id: ID!) {
  sendTestWebhook(id: $id) {
    delivery { id webhookId eventType test status attempts nextAttemptAt }
    userErrors { code field }
  }
}
"""


async def deliveries(client, webhook_id: str) -> list[dict]:  # type: ignore[no-untyped-def]
    return (await client.data(DELIVERIES, webhookId=webhook_id))["webhookDeliveries"]


async def test_a_partner_sees_each_attempt_of_its_delivery(graphql_client, jobs, receiver, clock):
    partner = await graphql_client("partner")
    webhook_id, _ = await registered(partner, receiver.url("log"), "member.created")
    receiver.respond("log", 503)
    await jobs.publish(MemberCreated(member_id=3, channel="POS"))

    await jobs.dispatch_and_drain()
    (failed,) = await deliveries(partner, webhook_id)
    clock.advance(timedelta(seconds=10))
    await jobs.dispatch_and_drain()
    (delivered,) = await deliveries(partner, webhook_id)

    (first_request, second_request) = receiver.at("log")
    assert failed["eventId"] == json.loads(first_request.body)["id"]
    assert failed["eventType"] == "member.created" and failed["test"] is False
    assert failed["status"] == "PENDING" and failed["attempts"] == 1
    assert failed["lastStatusCode"] == 503 and failed["lastError"].startswith("HTTP 503")
    assert failed["nextAttemptAt"] is not None and failed["deliveredAt"] is None
    assert delivered["id"] == failed["id"] and delivered["webhookId"] == webhook_id
    assert delivered["status"] == "DELIVERED" and delivered["attempts"] == 2
    assert delivered["lastStatusCode"] == 200 and delivered["lastError"] is None
    assert delivered["nextAttemptAt"] is None and delivered["deliveredAt"] is not None
    assert json.loads(second_request.body)["id"] == failed["eventId"]


async def test_a_test_delivery_reaches_only_the_webhook_it_was_sent_to(
    graphql_client, jobs, receiver
):
    partner = await graphql_client("partner")
    webhook_id, _ = await registered(partner, receiver.url("tried"), "member.created")
    await registered(partner, receiver.url("other"), "member.created")

    sent = (await partner.data(SEND_TEST, id=webhook_id))["sendTestWebhook"]
    await jobs.dispatch_and_drain()

    assert sent["userErrors"] == []
    assert sent["delivery"]["eventType"] == "webhook.test" and sent["delivery"]["test"] is True
    assert sent["delivery"]["status"] == "PENDING" and sent["delivery"]["attempts"] == 0
    (request,) = receiver.at("tried")
    body = json.loads(request.body)
    assert body["type"] == "webhook.test" and body["data"] == {"webhook_id": webhook_id}
    assert request.headers["webhook-id"] == body["id"]
    assert receiver.at("other") == []
    (logged,) = await deliveries(partner, webhook_id)
    assert logged["id"] == sent["delivery"]["id"]
    assert logged["status"] == "DELIVERED" and logged["lastStatusCode"] == 200


async def test_another_client_neither_sees_nor_tests_a_webhook(graphql_client, jobs, receiver):
    owner = await graphql_client("partner")
    stranger = await graphql_client("partner")
    webhook_id, _ = await registered(owner, receiver.url("private"), "member.created")
    await owner.data(SEND_TEST, id=webhook_id)

    refused = (await stranger.data(SEND_TEST, id=webhook_id))["sendTestWebhook"]
    seen = await deliveries(stranger, webhook_id)

    assert refused == {"delivery": None, "userErrors": [{"code": "NOT_FOUND", "field": ["id"]}]}
    assert seen == []
    assert len(await deliveries(owner, webhook_id)) == 1

"""GraphQL documents of the webhook tests."""

from __future__ import annotations

from typing import Any

from tests.graphql_client import GraphQLClient

REGISTER = """
mutation Register($input: WebhookInput!) {
  registerWebhook(input: $input) {
    webhook { id url events active createdAt }
    signingSecret
    userErrors { code message field }
  }
}
"""

DELETE = """
mutation Delete($id: ID!) {
  deleteWebhook(id: $id) {
    webhook { id active }
    signingSecret
    userErrors { code field }
  }
}
"""

WEBHOOKS = "{ webhooks { id url events active createdAt } }"

NODE = "query Node($id: ID!) { node(id: $id) { id ... on Webhook { url } } }"


async def register(client: GraphQLClient, url: str, *events: str) -> dict[str, Any]:
    """Register and answer ``registerWebhook`` (webhook, signingSecret, userErrors)."""
    data = await client.data(REGISTER, input={"url": url, "events": list(events)})
    return data["registerWebhook"]


async def registered(client: GraphQLClient, url: str, *events: str) -> tuple[str, str]:
    """Register a valid webhook; answer (its ID, its signing secret)."""
    payload = await register(client, url, *events)
    assert payload["userErrors"] == [], payload
    return payload["webhook"]["id"], payload["signingSecret"]

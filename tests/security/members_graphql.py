"""Documents and small builders shared by the trust-boundary tests."""

from __future__ import annotations

from typing import Any

import httpx

from tests.graphql_client import GraphQLClient

ISSUE_TOKEN = """
mutation Token($id: ID!) {
  issueMemberToken(memberId: $id) { token userErrors { code field message } }
}
"""

ME = "query { me { id status identities { type value verified } } }"

MEMBER = """
query Member($id: ID!) {
  member(id: $id) {
    id status mergedInto { id }
    identities { type value verified }
    points { available pending lifetimeEarned }
  }
}
"""


async def member_token(issuer: GraphQLClient, member_id: str) -> str:
    issued = (await issuer.data(ISSUE_TOKEN, id=member_id))["issueMemberToken"]
    assert issued["userErrors"] == [], issued
    return issued["token"]


async def acting_as(
    http: httpx.AsyncClient, issuer: GraphQLClient, member_id: str
) -> GraphQLClient:
    """A client holding a member token for ``member_id``, minted by ``issuer``."""
    return GraphQLClient(http, await member_token(issuer, member_id))


async def member(client: GraphQLClient, member_id: str) -> dict[str, Any]:
    return (await client.data(MEMBER, id=member_id))["member"]


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]

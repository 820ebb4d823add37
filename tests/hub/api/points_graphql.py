"""GraphQL documents and builders shared by the points API tests."""

from __future__ import annotations

from typing import Any

from tests.graphql_client import GraphQLClient

PAYLOAD = """
    member { id points { available pending lifetimeEarned } }
    entry {
        id kind bucket amount balanceAfter channel storeId reference reason expiresAt availableAt
        createdAt reverses { id }
    }
    decision { outcome reasons }
    replayed
    userErrors { code field message }
"""

REDEEM = f"""
mutation Redeem($input: RedeemInput!) {{ redeemPoints(input: $input) {{ {PAYLOAD} }} }}
"""

ADJUST = f"""
mutation Adjust($input: AdjustInput!) {{ adjustPoints(input: $input) {{ {PAYLOAD} }} }}
"""

CHECK_IN = f"""
mutation CheckIn($input: CheckInInput!) {{ checkIn(input: $input) {{ {PAYLOAD} }} }}
"""

POINTS = """
query Points($id: ID!, $within: Int, $first: Int, $after: String, $kinds: [LedgerEntryKind!]) {
  member(id: $id) {
    points {
      available pending lifetimeEarned
      expiringSoon(withinDays: $within) { points expiresAt }
      history(first: $first, after: $after, kinds: $kinds) {
        edges { cursor node { id kind bucket amount balanceAfter reason } }
        pageInfo { hasNextPage endCursor }
      }
    }
  }
}
"""

#: ``node`` answers the member itself, where ``member(id)`` follows a merge to the survivor.
OWN_POINTS = """
query OwnPoints($id: ID!, $within: Int) {
  node(id: $id) {
    ... on Member {
      points { available pending expiringSoon(withinDays: $within) { points expiresAt } }
    }
  }
}
"""

ISSUE_TOKEN = """
mutation Token($id: ID!) { issueMemberToken(memberId: $id) { token userErrors { code } } }
"""


async def adjust(client: GraphQLClient, member_id: str, points: int, key: str) -> dict[str, Any]:
    data = await client.data(
        ADJUST,
        input={
            "memberId": member_id,
            "points": points,
            "idempotencyKey": key,
            "reason": "goodwill",
        },
    )
    return data["adjustPoints"]


async def redeem(
    client: GraphQLClient, member_id: str, points: int, key: str, **extra: Any
) -> dict[str, Any]:
    data = await client.data(
        REDEEM,
        input={
            "memberId": member_id,
            "points": points,
            "idempotencyKey": key,
            "channel": extra.pop("channel", "POS"),
            "reason": extra.pop("reason", "voucher"),
            **extra,
        },
    )
    return data["redeemPoints"]


async def points_of(client: GraphQLClient, member_id: str, **variables: Any) -> dict[str, Any]:
    data = await client.data(POINTS, id=member_id, **variables)
    return data["member"]["points"]


async def own_points(client: GraphQLClient, member_id: str, **variables: Any) -> dict[str, Any]:
    data = await client.data(OWN_POINTS, id=member_id, **variables)
    return data["node"]["points"]


def codes(payload: dict[str, Any]) -> list[str]:
    return [error["code"] for error in payload["userErrors"]]

"""Members and purchases written through the API, for the console's tests to look at."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from tests.graphql_client import GraphQLClient
from tests.hub.api.members_graphql import created_member, phone

RECORD = """
mutation Record($input: PurchaseInput!) {
  recordPurchase(input: $input) {
    decision { outcome reasons review { id } }
    userErrors { code message }
  }
}
"""

DASHBOARD = """
query D($from: Date!, $to: Date!) {
  dashboard(from: $from, to: $to) {
    members revenue activeMembers couponsIssued couponsRedeemed promotionPoints
  }
}
"""

POINTS = "query P($id: ID!) { member(id: $id) { points { available } } }"


async def member_with_phone(admin: GraphQLClient, number: str) -> dict[str, Any]:
    return await created_member(admin, "POS", phone(number))


async def buy(
    till: GraphQLClient,
    member_id: str,
    receipt: str,
    amount: str,
    *,
    store: str = "S001",
    minutes_ago: int = 60,
) -> dict[str, Any]:
    """Record a purchase an hour (or ``minutes_ago``) ago; answers the payload, which must
    have no user errors."""
    at = datetime.now(UTC) - timedelta(minutes=minutes_ago)
    payload = (
        await till.data(
            RECORD,
            input={
                "storeId": store,
                "receiptNo": receipt,
                "channel": "POS",
                "occurredAt": at.isoformat(),
                "amount": amount,
                "memberId": member_id,
            },
        )
    )["recordPurchase"]
    assert payload["userErrors"] == [], payload
    return payload

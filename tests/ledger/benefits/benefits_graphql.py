"""GraphQL documents and builders shared by the benefits tests."""

from __future__ import annotations

import base64
from typing import Any

from tests.graphql_client import GraphQLClient

TEMPLATE_FIELDS = """
    id code name kind value minSpend categories channels storeIds validDays validFrom
    validUntil stock perMemberLimit pointsPrice active
"""
COUPON_FIELDS = """
    id code status source issuedAt validUntil redeemedAt redeemedPurchase { id }
    template { code } member { id }
"""

DEFINE = f"""
mutation Define($input: CouponTemplateInput!) {{
  defineCouponTemplate(input: $input) {{
    template {{ {TEMPLATE_FIELDS} }}
    userErrors {{ code field message }}
  }}
}}
"""

DEACTIVATE = f"""
mutation Deactivate($id: ID!) {{
  deactivateCouponTemplate(id: $id) {{
    template {{ {TEMPLATE_FIELDS} }}
    userErrors {{ code field message }}
  }}
}}
"""

ISSUE = """
mutation Issue($input: IssueCouponsInput!) {
  issueCoupons(input: $input) { replayed issued skipped userErrors { code field message } }
}
"""

EXCHANGE = f"""
mutation Exchange($input: ExchangeRewardInput!) {{
  exchangeReward(input: $input) {{
    replayed pointsSpent coupon {{ {COUPON_FIELDS} }} userErrors {{ code field message }}
  }}
}}
"""

VOID = f"""
mutation Void($id: ID!, $reason: String!) {{
  voidCoupon(id: $id, reason: $reason) {{
    replayed coupon {{ {COUPON_FIELDS} }} userErrors {{ code field message }}
  }}
}}
"""

WALLET = f"""
query Wallet($id: ID!, $status: CouponStatus, $first: Int, $after: String) {{
  member(id: $id) {{
    points {{ available }}
    coupons(status: $status, first: $first, after: $after) {{
      totalCount
      pageInfo {{ hasNextPage endCursor }}
      edges {{ cursor node {{ {COUPON_FIELDS} }} }}
    }}
  }}
}}
"""

STATS = """
query Stats($active: Boolean) {
  couponTemplates(activeOnly: $active) {
    code active stock
    stats { issued redeemed expired redemptionRate revenue }
  }
}
"""

REWARDS = "query { rewards { code pointsPrice stock } }"

QUOTE = """
query Quote($member: ID!, $codes: [String!]!, $store: ID!, $channel: Channel!,
            $amount: Decimal!, $items: [PurchaseItemInput!]) {
  quoteCoupons(memberId: $member, codes: $codes, storeId: $store, channel: $channel,
               amount: $amount, items: $items) {
    usable discount reason coupon { code status }
  }
}
"""


def global_id(type_name: str, key: int) -> str:
    return base64.b64encode(f"{type_name}:{key}".encode()).decode()


def template_input(code: str, **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "code": code,
        "name": f"{code} coupon",
        "kind": "CASH_OFF",
        "value": "50",
        "minSpend": "200",
        "validDays": 30,
    }
    values.update(overrides)
    return values


async def define(client: GraphQLClient, code: str, **overrides: Any) -> dict[str, Any]:
    payload = (await client.data(DEFINE, input=template_input(code, **overrides)))[
        "defineCouponTemplate"
    ]
    assert payload["userErrors"] == [], payload
    return payload["template"]


async def issue(
    client: GraphQLClient,
    template_id: str,
    key: str,
    *,
    members: list[int] | None = None,
    segment: int | None = None,
    reason: str = "goodwill",
) -> dict[str, Any]:
    data: dict[str, Any] = {"templateId": template_id, "reason": reason, "idempotencyKey": key}
    if members is not None:
        data["memberIds"] = [global_id("Member", m) for m in members]
    if segment is not None:
        data["segmentId"] = global_id("Segment", segment)
    return (await client.data(ISSUE, input=data))["issueCoupons"]


async def exchange(
    client: GraphQLClient, member_id: int, template_id: str, key: str
) -> dict[str, Any]:
    return (
        await client.data(
            EXCHANGE,
            input={
                "memberId": global_id("Member", member_id),
                "templateId": template_id,
                "idempotencyKey": key,
            },
        )
    )["exchangeReward"]


async def wallet(client: GraphQLClient, member_id: int, **variables: Any) -> dict[str, Any]:
    return (await client.data(WALLET, id=global_id("Member", member_id), **variables))["member"]

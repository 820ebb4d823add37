"""GraphQL documents and builders of the promotion and tier tests."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.conftest import START
from tests.graphql_client import GraphQLClient

PROMOTION_FIELDS = """
    id name kind value daysOfMonth daysOfWeek birthdayWindowDays tierCodes segment { id }
    categories skus channels storeIds nthPurchase startsAt endsAt stackable pointsAwarded
"""

DEFINE_PROMOTION = f"""
mutation Define($input: PromotionInput!) {{
  definePromotion(input: $input) {{
    promotion {{ {PROMOTION_FIELDS} }}
    userErrors {{ code field message }}
  }}
}}
"""

END_PROMOTION = f"""
mutation End($id: ID!) {{
  endPromotion(id: $id) {{
    promotion {{ {PROMOTION_FIELDS} }}
    userErrors {{ code field message }}
  }}
}}
"""

PROMOTIONS = f"""
query Promotions($at: DateTime) {{ promotions(activeAt: $at) {{ {PROMOTION_FIELDS} }} }}
"""

TIER_FIELDS = "code name rank qualifyingSpend pointsMultiplier payPercent perks"

DEFINE_TIERS = f"""
mutation Tiers($tiers: [TierInput!]!) {{
  defineTiers(tiers: $tiers) {{
    tiers {{ {TIER_FIELDS} }}
    userErrors {{ code field message }}
  }}
}}
"""

TIERS = f"{{ tiers {{ {TIER_FIELDS} }} }}"

BREAKDOWN = """
query Purchase($store: ID!, $receipt: String!) {
  purchase(storeId: $store, receiptNo: $receipt) {
    pointsEarned pointsBreakdown { key count }
  }
}
"""


def promotion_input(
    name: str, kind: str = "MULTIPLIER", value: str = "2", **extra: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "kind": kind,
        "value": value,
        "startsAt": (START - timedelta(days=1)).isoformat(),
        **extra,
    }


async def define_promotion(client: GraphQLClient, name: str, **extra: Any) -> dict[str, Any]:
    data = await client.data(DEFINE_PROMOTION, input=promotion_input(name, **extra))
    return data["definePromotion"]


async def breakdown(client: GraphQLClient, receipt: str, store: str = "S001") -> dict[str, int]:
    found = (await client.data(BREAKDOWN, store=store, receipt=receipt))["purchase"]
    return {line["key"]: line["count"] for line in found["pointsBreakdown"]}


def at(days: int = 0, hours: int = 0) -> datetime:
    return START + timedelta(days=days, hours=hours)

"""GraphQL documents and helpers of the campaign tests."""

from __future__ import annotations

from typing import Any

from tests.graphql_client import GraphQLClient

CREATE = """
mutation Create($input: CampaignInput!) {
  createCampaign(input: $input) {
    campaign { id name status trigger triggerDays frequencyCapDays conversionWindowDays }
    userErrors { code field message }
  }
}
"""

START = """
mutation Start($id: ID!) {
  startCampaign(id: $id) { campaign { id status } userErrors { code field message } }
}
"""

PAUSE = """
mutation Pause($id: ID!) {
  pauseCampaign(id: $id) { campaign { id status } userErrors { code field message } }
}
"""

REPORT = """
query Report($id: ID!) {
  campaign(id: $id) {
    status
    report {
      arms { name weight holdout members reached converted conversionRate revenue
             couponsRedeemed pointsAwarded }
      uplift pValue
    }
  }
}
"""

CAMPAIGNS = "query { campaigns { id name status } }"

SET_CONSENT = """
mutation Consent($member: ID!, $channel: MessageChannel!, $granted: Boolean!) {
  setConsent(memberId: $member, channel: $channel, granted: $granted) {
    member { id consents { channel granted } }
    userErrors { code field message }
  }
}
"""

TOUCHES = """
query Touches($id: ID!) {
  member(id: $id) {
    consents { channel granted }
    campaignTouches { campaign { name } arm reachedAt channel outcome }
  }
}
"""


def campaign_input(name: str, trigger: str = "ONCE", **overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": name,
        "trigger": trigger,
        "startsAt": "2020-01-01T00:00:00+00:00",
        "arms": [
            {
                "name": "sms",
                "weight": 1,
                "action": {
                    "message": {
                        "channel": "SMS",
                        "templateId": "T-1",
                        "data": [{"key": "text", "value": "Hi {{member.name}}"}],
                    }
                },
            }
        ],
    }
    values.update(overrides)
    return values


async def create(client: GraphQLClient, values: dict[str, Any], *, start: bool = True) -> str:
    payload = (await client.data(CREATE, input=values))["createCampaign"]
    assert payload["userErrors"] == [], payload
    campaign_id = payload["campaign"]["id"]
    if start:
        started = (await client.data(START, id=campaign_id))["startCampaign"]
        assert started["campaign"]["status"] == "RUNNING", started
    return campaign_id

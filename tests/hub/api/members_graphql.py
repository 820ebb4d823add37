"""GraphQL documents and small builders shared by the member API tests."""

from __future__ import annotations

from typing import Any

from tests.graphql_client import GraphQLClient

MEMBER_FIELDS = """
    id status createdAt registeredChannel
    mergedInto { id }
    profile { name gender birthday region }
    identities { type namespace value verified channel linkedAt lastSeenAt }
    merges { id reason actor undoneAt survivor { id } merged { id } evidence { type value } }
"""

IDENTIFY = f"""
mutation Identify($input: IdentifyInput!) {{
  identify(input: $input) {{
    outcome
    member {{ {MEMBER_FIELDS} }}
    merge {{ id reason actor survivor {{ id }} merged {{ id status }} evidence {{ type value }} }}
    userErrors {{ code field message }}
  }}
}}
"""

MEMBER_BY_ID = f"query Member($id: ID!) {{ member(id: $id) {{ {MEMBER_FIELDS} }} }}"

MEMBER_BY_IDENTITY = f"""
query MemberByIdentity($identity: IdentityInput!) {{
  member(identity: $identity) {{ {MEMBER_FIELDS} }}
}}
"""

NODE = """
query Node($id: ID!) {
  node(id: $id) { id ... on Member { status mergedInto { id } } ... on Merge { reason undoneAt } }
}
"""

MERGE_MEMBERS = """
mutation Merge($survivor: ID!, $merged: ID!, $reason: String!) {
  mergeMembers(survivorId: $survivor, mergedId: $merged, reason: $reason) {
    merge { id reason actor createdAt undoneAt survivor { id } merged { id status } }
    userErrors { code field message }
  }
}
"""

UNMERGE = """
mutation Unmerge($merge: ID!, $reason: String!) {
  unmerge(mergeId: $merge, reason: $reason) {
    merge { id undoneAt merged { id status } }
    userErrors { code field message }
  }
}
"""


def phone(value: str, *, verified: bool = True) -> dict[str, Any]:
    return {"type": "PHONE", "value": value, "verified": verified}


def openid(value: str, app: str = "wx-app-1", *, verified: bool = False) -> dict[str, Any]:
    return {"type": "WECHAT_OPENID", "namespace": app, "value": value, "verified": verified}


def unionid(value: str, *, verified: bool = True) -> dict[str, Any]:
    return {"type": "WECHAT_UNIONID", "value": value, "verified": verified}


def card(value: str, system: str = "pos-chain", *, verified: bool = False) -> dict[str, Any]:
    return {"type": "POS_CARD", "namespace": system, "value": value, "verified": verified}


async def identify(
    client: GraphQLClient, channel: str, *identities: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    """The ``identify`` payload, asserting the call itself succeeded at the GraphQL level."""
    data = await client.data(
        IDENTIFY, input={"identities": list(identities), "channel": channel, **extra}
    )
    return data["identify"]


async def created_member(
    client: GraphQLClient, channel: str, *identities: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    payload = await identify(client, channel, *identities, **extra)
    assert payload["userErrors"] == [] and payload["outcome"] == "CREATED", payload
    return payload["member"]

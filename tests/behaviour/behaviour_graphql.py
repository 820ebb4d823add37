"""GraphQL documents and builders of the behaviour-event tests."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from tests.graphql_client import GraphQLClient

TRACK = """
mutation Track($events: [BehaviourEventInput!]!) {
  trackEvents(events: $events) { accepted duplicates userErrors { code field message } }
}
"""

FUNNEL = """
query Funnel($steps: [FunnelStepKind!]!, $from: Date!, $to: Date!, $within: Int,
             $segment: ID) {
  funnel(steps: $steps, from: $from, to: $to, withinDays: $within, segmentId: $segment) {
    step members conversion
  }
}
"""

PREVIEW = """
query Preview($rule: SegmentRuleInput!) {
  previewSegment(rule: $rule, first: 50) { totalCount edges { node { id } } }
}
"""

DEFINE_SEGMENT = """
mutation Define($input: SegmentInput!) {
  defineSegment(input: $input) { segment { id memberCount } userErrors { code field message } }
}
"""


def event(
    event_id: str,
    kind: str,
    at: datetime,
    *,
    member: str | None = None,
    channel: str = "MINI_PROGRAM",
    **extra: Any,
) -> dict[str, Any]:
    found = {
        "eventId": event_id,
        "kind": kind,
        "channel": channel,
        "occurredAt": at.isoformat(),
        **extra,
    }
    if member is not None:
        found["memberId"] = member
    return found


def condition(field: str, op: str, *values: str, within: int | None = None) -> dict[str, Any]:
    found: dict[str, Any] = {"field": field, "op": op, "values": list(values)}
    if within is not None:
        found["withinDays"] = within
    return {"condition": found}


async def track(client: GraphQLClient, events: list[dict[str, Any]]) -> dict[str, Any]:
    return (await client.data(TRACK, events=events))["trackEvents"]


async def selected(client: GraphQLClient, rule: dict[str, Any]) -> set[str]:
    found = (await client.data(PREVIEW, rule=rule))["previewSegment"]
    return {edge["node"]["id"] for edge in found["edges"]}

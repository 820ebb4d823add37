"""A segment rule costs what its limits allow: numbers are read with bounds before any
conversion, a rule's size is capped, and its statement runs under a time limit."""

from __future__ import annotations

import time
from typing import Any

import pytest

from hub.http.app import create_app
from tests.graphql_client import GraphQLClient
from tests.live_server import serve_in_thread

DEFINE_SEGMENT = """
mutation Define($input: SegmentInput!) {
  defineSegment(input: $input) { segment { id } userErrors { code field message } }
}
"""


def condition(field: str, op: str, *values: str, within: int | None = None) -> dict[str, Any]:
    return {"condition": {"field": field, "op": op, "values": list(values), "withinDays": within}}


def segment(rule: dict[str, Any]) -> dict[str, Any]:
    return {"name": "s", "rule": rule}


def codes(body: dict[str, Any]) -> list[str]:
    assert "errors" not in body, body
    return [e["code"] for e in body["data"]["defineSegment"]["userErrors"]]


@pytest.mark.parametrize(
    "rule",
    [
        condition("TOTAL_SPEND", "GT", "1e300000"),
        condition("PURCHASE_COUNT", "GT", "1e300000"),
        condition("POINTS_BALANCE", "GT", "1e20"),
        condition("POINTS_BALANCE", "GT", "100000000000000000000"),
        condition("TOTAL_SPEND", "GT", "1" * 40),
        condition("TOTAL_SPEND", "BETWEEN", "0", "NaN"),
        condition("DAYS_SINCE_REGISTRATION", "IN", "1", "9" * 30),
    ],
)
async def test_out_of_range_numbers_are_invalid_input_at_once(live_client, rule):
    admin = await live_client("admin")
    started = time.perf_counter()

    body = await admin.execute(DEFINE_SEGMENT, input=segment(rule))

    assert codes(body) == ["INVALID_INPUT"]
    assert time.perf_counter() - started < 2


async def test_a_rule_of_thousands_of_conditions_is_refused(live_client):
    admin = await live_client("admin")
    conditions = [condition("TOTAL_SPEND", "GT", str(n)) for n in range(3650)]

    body = await admin.execute(DEFINE_SEGMENT, input=segment({"any": conditions}))

    assert codes(body) == ["INVALID_INPUT"]


async def test_a_rule_of_many_in_values_is_refused(live_client):
    admin = await live_client("admin")
    conditions = [
        condition("PURCHASED_CATEGORY", "IN", *(f"c{n}-{m}" for m in range(100))) for n in range(10)
    ]

    body = await admin.execute(DEFINE_SEGMENT, input=segment({"any": conditions}))

    assert codes(body) == ["INVALID_INPUT"]


async def test_a_rule_within_the_limits_is_defined(live_client):
    admin = await live_client("admin")
    conditions = [condition("TOTAL_SPEND", "GT", f"{n}.5") for n in range(50)]

    body = await admin.execute(DEFINE_SEGMENT, input=segment({"any": conditions}))

    assert codes(body) == []


async def test_a_rule_statement_runs_under_a_time_limit(settings, new_key):
    slow = settings.model_copy(update={"rule_statement_timeout_ms": 1})
    # Fifty look-back windows: fifty aggregates joined, planned and run in one statement.
    conditions = [condition("PURCHASE_COUNT", "GT", "0", within=n) for n in range(1, 51)]
    with serve_in_thread(lambda: create_app(slow)) as url:
        import httpx

        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            admin = GraphQLClient(http, await new_key("admin"))
            body = await admin.execute(DEFINE_SEGMENT, input=segment({"all": conditions}))
            healthy = await admin.data("{ __typename }")

    assert codes(body) == ["LIMIT_EXCEEDED"]
    assert healthy == {"__typename": "Query"}

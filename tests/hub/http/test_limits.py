"""Abusive queries are refused before execution; clients are rate limited; APQ works."""

from __future__ import annotations

import hashlib

import httpx
import pytest
from graphql import parse

from hub.http.app import create_app
from hub.http.endpoint import find_operation
from hub.http.limits import CostExceeded, QueryLimits, query_cost
from hub.settings import RateLimit

ALIASES_IN_NESTED_FRAGMENTS = """
query Sneaky { ...A }
fragment A on Query { a1: __typename a2: __typename ...B ...B }
fragment B on Query { b1: __typename b2: __typename b3: __typename ...C ...C ...C }
fragment C on Query { c1: __typename c2: __typename c3: __typename c4: __typename }
"""

INTROSPECTION = "{ __schema { queryType { name } } }"


async def post(http: httpx.AsyncClient, key: str, body: dict) -> httpx.Response:
    return await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {key}"})


async def test_aliases_hidden_in_nested_fragments_are_counted(http, new_key):
    key = await new_key("admin")

    response = await post(http, key, {"query": ALIASES_IN_NESTED_FRAGMENTS})

    # 2 + 2 * (3 + 3 * 4) = 32 aliases, over the default 30.
    errors = response.json()["errors"]
    assert "data" not in response.json()
    assert "32 aliases found" in errors[0]["message"]


async def test_token_limit_bounds_the_parser(http, new_key):
    key = await new_key("admin")
    huge = "{ " + " ".join("__typename" for _ in range(6000)) + " }"

    response = await post(http, key, {"query": huge})

    assert "data" not in response.json()
    assert "more than 5000 tokens" in response.json()["errors"][0]["message"]


async def test_introspection_is_for_admin_clients(http, new_key):
    admin, partner = await new_key("admin"), await new_key("partner")

    as_admin = await post(http, admin, {"query": INTROSPECTION})
    as_partner = await post(http, partner, {"query": INTROSPECTION})

    assert as_admin.json() == {"data": {"__schema": {"queryType": {"name": "Query"}}}}
    assert as_partner.json()["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"
    assert "data" not in as_partner.json()


def test_cost_multiplies_by_page_size():
    limits = QueryLimits(max_page_size=100)
    document = parse(
        "query Q($n: Int) { members(first: 50) { edges { node { id"
        " purchases(first: $n) { edges { node { id } } } } } } }"
    )
    operation = find_operation(document, None)

    small = query_cost(document, operation, {"n": 2}, limits)
    large = query_cost(document, operation, {"n": 100}, limits)

    # members 1 + 50 * (edges 1 + node 1 + id 1 + purchases 1 + n * (edges + node + id))
    assert small == 1 + 50 * (4 + 2 * 3)
    assert large == 1 + 50 * (4 + 100 * 3)
    with pytest.raises(CostExceeded):
        query_cost(document, operation, {"n": 101}, limits)


@pytest.fixture
async def limited_http(settings, engine, redis, clean_redis):
    limited = settings.model_copy(
        update={"rate_limit_overrides": {"tiny-partner": RateLimit(rate=0.01, burst=3)}}
    )
    app = create_app(limited, engine=engine, redis=redis)
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        yield client
    await app.state.hub.reads.close()


async def test_rate_limit_answers_429_with_retry_after_and_counts_it(limited_http, new_key):
    key = await new_key("partner", name="tiny-partner")
    other = await new_key("partner", name="big-partner")

    statuses = [
        (await post(limited_http, key, {"query": "{ __typename }"})).status_code for _ in range(4)
    ]
    refused = await post(limited_http, key, {"query": "{ __typename }"})
    unaffected = await post(limited_http, other, {"query": "{ __typename }"})
    metrics = (await limited_http.get("/metrics")).text

    assert statuses == [200, 200, 200, 429]
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert unaffected.status_code == 200
    assert 'memberhub_rate_limited_requests_total{kind="partner"} 2.0' in metrics


async def test_automatic_persisted_queries(http, new_key, clean_redis):
    key = await new_key("frontend")
    query = "query Ping { __typename }"
    digest = hashlib.sha256(query.encode()).hexdigest()
    by_hash = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}

    unknown = await post(http, key, by_hash)
    registered = await post(http, key, {"query": query, **by_hash})
    known = await post(http, key, by_hash)
    mismatch = await post(
        http,
        key,
        {"query": "{ __typename }", **by_hash},
    )

    assert unknown.json()["errors"][0]["message"] == "PersistedQueryNotFound"
    assert unknown.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert registered.json() == {"data": {"__typename": "Query"}}
    assert known.json() == {"data": {"__typename": "Query"}}
    assert "does not match" in mismatch.json()["errors"][0]["message"]


#: member > merges > survivor > … : 2 + 2 x 10 levels, over the default 15.
DEEP = (
    "query Deep($id: ID!) { member(id: $id) { "
    + "merges { survivor { " * 10
    + "id"
    + " } }" * 10
    + " } }"
)


async def test_depth_beyond_the_limit_is_refused_before_execution(http, new_key):
    key = await new_key("admin")

    response = await post(http, key, {"query": DEEP, "variables": {"id": "TWVtYmVyOjE="}})

    body = response.json()
    assert "data" not in body
    assert "exceeds maximum operation depth" in body["errors"][0]["message"]


async def test_batched_requests_are_refused(http, new_key):
    key = await new_key("admin")

    response = await http.post(
        "/graphql",
        json=[{"query": "{ __typename }"}, {"query": "{ __typename }"}],
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 400
    assert "batched requests are not supported" in response.json()["errors"][0]["message"]

"""Errors carry the ``extensions.code`` that Apollo-style clients switch on."""

from __future__ import annotations

import httpx
import pytest

from hub.http.app import create_app
from hub.settings import RateLimit

MEMBER_BY_PHONE = """
query MemberByPhone($value: String!) {
  member(identity: {type: PHONE, value: $value}) { id }
}
"""


async def post(http: httpx.AsyncClient, key: str, body: dict) -> httpx.Response:  # type:
    # ignore[type-arg]
    return await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {key}"})


async def test_a_query_the_schema_refuses_is_graphql_validation_failed(http, new_key):
    key = await new_key("admin")

    response = await post(http, key, {"query": "{ member(id: 1) { noSuchField } }"})

    errors = response.json()["errors"]
    assert errors and {e["extensions"]["code"] for e in errors} == {"GRAPHQL_VALIDATION_FAILED"}


async def test_a_query_that_does_not_parse_is_graphql_parse_failed(http, new_key):
    key = await new_key("admin")

    response = await post(http, key, {"query": "{ member("})

    assert response.json()["errors"][0]["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"


async def test_limit_errors_keep_their_own_code(http, new_key):
    key = await new_key("partner")

    response = await post(http, key, {"query": "{ __schema { types { name } } }"})

    assert response.json()["errors"][0]["extensions"]["code"] == "INTROSPECTION_DISABLED"


@pytest.mark.parametrize("plans", [True, False], ids=["query-plans", "graphql-core"])
async def test_bad_variables_are_bad_user_input_on_both_execution_paths(
    plans, settings, engine, redis, clock, new_key
):
    app = create_app(
        settings.model_copy(update={"query_plans": plans}), engine=engine, redis=redis, clock=clock
    )
    key = await new_key("admin")
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as client:
            wrong_type = await post(
                client, key, {"query": MEMBER_BY_PHONE, "variables": {"value": 5}}
            )
            missing = await post(client, key, {"query": MEMBER_BY_PHONE, "variables": {}})
    finally:
        await app.state.hub.reads.close()

    for response in (wrong_type, missing):
        body = response.json()
        assert body.get("data") is None
        assert [e["extensions"]["code"] for e in body["errors"]] == ["BAD_USER_INPUT"], body


async def test_a_429_says_it_is_retryable_and_when(settings, engine, redis, clean_redis, new_key):
    limited = settings.model_copy(
        update={"rate_limit_overrides": {"tiny": RateLimit(rate=0.01, burst=1)}}
    )
    app = create_app(limited, engine=engine, redis=redis)
    key = await new_key("partner", name="tiny")
    try:
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://hub"
        ) as client:
            await post(client, key, {"query": "{ __typename }"})
            refused = await post(client, key, {"query": "{ __typename }"})
    finally:
        await app.state.hub.reads.close()

    assert refused.status_code == 429
    extensions = refused.json()["errors"][0]["extensions"]
    assert extensions["code"] == "RATE_LIMITED"
    assert extensions["retryable"] is True
    assert extensions["retryAfterSeconds"] == int(refused.headers["retry-after"]) >= 1

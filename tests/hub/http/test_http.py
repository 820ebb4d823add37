"""The HTTP surface: authentication, GraphQL over HTTP, health, readiness, metrics."""

from __future__ import annotations

import logging

import httpx
import pytest
from redis.asyncio import Redis

from hub.db.engine import create_engine
from hub.http.app import create_app

TYPENAME = '{"query": "{ __typename }"}'


async def test_admin_key_answers_typename(http, new_key):
    key = await new_key("admin")

    response = await http.post(
        "/graphql",
        content=TYPENAME,
        headers={"Authorization": f"Bearer {key}", "content-type": "application/json"},
    )

    assert response.status_code == 200
    assert response.json() == {"data": {"__typename": "Query"}}


@pytest.mark.parametrize(
    "authorization",
    [None, "Bearer mh_not-a-key", "Basic dXNlcjpwYXNz", "Bearer ", "Bearer mt.forged.token"],
)
async def test_missing_or_unknown_credentials_get_401_before_parsing(http, authorization):
    headers = {"content-type": "application/json"}
    if authorization is not None:
        headers["Authorization"] = authorization

    # A syntax error would be a 200/400 if the request got as far as parsing.
    response = await http.post("/graphql", content='{"query": "{ nope"}', headers=headers)

    assert response.status_code == 401
    assert response.headers["www-authenticate"].startswith("Bearer")
    assert response.json()["errors"][0]["extensions"]["code"] == "UNAUTHENTICATED"


async def test_revoked_key_gets_401(http, new_key, run_in_transaction):
    from hub.clients import revoke_client

    key = await new_key("partner", name="acme")
    headers = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    assert (await http.post("/graphql", content=TYPENAME, headers=headers)).status_code == 200

    await run_in_transaction(lambda s: revoke_client(s, name="acme"))

    assert (await http.post("/graphql", content=TYPENAME, headers=headers)).status_code == 401


async def test_get_runs_queries_and_serves_graphiql_to_browsers(http, new_key):
    key = await new_key("admin")

    page = await http.get("/graphql", headers={"Accept": "text/html"})
    answer = await http.get(
        "/graphql", params={"query": "{ __typename }"}, headers={"Authorization": f"Bearer {key}"}
    )

    assert page.status_code == 200 and "graphiql" in page.text.lower()
    assert answer.json() == {"data": {"__typename": "Query"}}


async def test_media_types_and_status_codes_follow_graphql_over_http(http, new_key):
    key = await new_key("admin")
    auth = {"Authorization": f"Bearer {key}", "content-type": "application/json"}
    invalid = '{"query": "{ noSuchField }"}'

    modern = await http.post(
        "/graphql",
        content=invalid,
        headers={**auth, "Accept": "application/graphql-response+json"},
    )
    legacy = await http.post(
        "/graphql", content=invalid, headers={**auth, "Accept": "application/json"}
    )
    broken_json = await http.post("/graphql", content="{", headers=auth)
    not_json = await http.post(
        "/graphql", content="query", headers={**auth, "content-type": "text/plain"}
    )
    batch = await http.post("/graphql", content=f"[{TYPENAME}]", headers=auth)
    unacceptable = await http.post(
        "/graphql", content=TYPENAME, headers={**auth, "Accept": "text/csv"}
    )

    assert modern.status_code == 400
    assert modern.headers["content-type"].startswith("application/graphql-response+json")
    assert "data" not in modern.json()
    assert legacy.status_code == 200 and legacy.json()["errors"]
    assert broken_json.status_code == 400
    assert not_json.status_code == 415
    assert batch.status_code == 400
    assert unacceptable.status_code == 406


async def test_healthz_and_readyz(http):
    health = await http.get("/healthz")
    ready = await http.get("/readyz")

    assert health.json() == {"status": "ok"}
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "postgres": "ok", "redis": "ok"}


async def test_readyz_names_postgres_when_it_is_down(settings, redis: Redis):
    # Nothing listens on port 1: the same as a stopped server.
    unreachable = create_engine("postgresql://postgres@127.0.0.1:1/postgres", pool_size=1)
    app = create_app(settings, engine=unreachable, redis=redis)
    import httpx

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as http:
        response = await http.get("/readyz")
    await unreachable.dispose()

    assert response.status_code == 503
    body = response.json()
    assert body["postgres"].startswith("unavailable")
    assert body["redis"] == "ok"


async def test_readyz_names_redis_when_it_is_down(settings, engine):
    unreachable = Redis.from_url("redis://127.0.0.1:1/0")
    app = create_app(settings, engine=engine, redis=unreachable)
    import httpx

    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as http:
        response = await http.get("/readyz")
    await unreachable.aclose()

    assert response.status_code == 503
    assert response.json()["redis"].startswith("unavailable")
    assert response.json()["postgres"] == "ok"


async def test_metrics_count_requests_per_operation(settings, engine, redis, new_key):
    app = create_app(
        settings.model_copy(update={"metrics_operations": ["Ping"]}), engine=engine, redis=redis
    )
    key = await new_key("admin")
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as http:
        for _ in range(3):
            await http.post(
                "/graphql",
                json={"query": "query Ping { __typename }"},
                headers={"Authorization": f"Bearer {key}"},
            )
        text = (await http.get("/metrics")).text
    await app.state.hub.reads.close()

    assert 'memberhub_graphql_requests_total{operation="Ping",outcome="ok"} 3.0' in text
    assert 'memberhub_graphql_request_seconds_count{operation="Ping"} 3.0' in text


async def test_request_log_names_operation_and_client_but_never_the_key(
    http, new_key, caplog: pytest.LogCaptureFixture
):
    key = await new_key("admin", name="ops-console")
    caplog.set_level(logging.INFO)

    await http.post(
        "/graphql",
        json={"query": "query Ping { __typename }"},
        headers={"Authorization": f"Bearer {key}"},
    )

    lines = [r for r in caplog.records if r.name == "memberhub.request"]
    assert len(lines) == 1
    event = lines[0].msg
    assert event["operation"] == "Ping"
    assert event["client"] == "ops-console"
    assert event["outcome"] == "ok"
    assert isinstance(event["duration_ms"], float)
    assert key not in caplog.text

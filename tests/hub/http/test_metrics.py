"""/metrics: bounded labels, and the state of the work behind the API."""

from __future__ import annotations

import hashlib
import re
import uuid

import httpx
import pytest

from hub.http.app import create_app
from tests.hub.api.members_graphql import card, created_member


def operation_labels(metrics: str) -> set[str]:
    return set(re.findall(r'memberhub_graphql_requests_total\{operation="([^"]*)"', metrics))


async def post(http: httpx.AsyncClient, key: str, body: dict) -> httpx.Response:  # type:
    # ignore[type-arg]
    return await http.post("/graphql", json=body, headers={"Authorization": f"Bearer {key}"})


async def test_random_operation_names_do_not_create_series(http, new_key):
    key = await new_key("admin")
    names = [f"Probe{uuid.uuid4().hex}" for _ in range(3)] + ["X" * 100_000]

    for name in names:
        await post(http, key, {"query": f"query {name} {{ __typename }}"})
        await post(http, key, {"query": "{ __typename }", "operationName": name})
    metrics = (await http.get("/metrics")).text

    assert operation_labels(metrics) <= {"other", "anonymous", "unknown"}
    assert not any(name[:20] in metrics for name in names)
    assert len(metrics) < 100_000


@pytest.fixture
async def known_http(settings, engine, redis):
    app = create_app(
        settings.model_copy(update={"metrics_operations": ["Ping"]}), engine=engine, redis=redis
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        yield client
    await app.state.hub.reads.close()


async def test_configured_and_persisted_operation_names_get_their_own_series(
    known_http, new_key, clean_redis
):
    key = await new_key("frontend")
    persisted = "query CheckoutBanner { __typename }"
    digest = hashlib.sha256(persisted.encode()).hexdigest()
    by_hash = {"extensions": {"persistedQuery": {"version": 1, "sha256Hash": digest}}}

    await post(known_http, key, {"query": "query Ping { __typename }"})
    await post(known_http, key, {"query": persisted, **by_hash})
    await post(known_http, key, by_hash)
    await post(known_http, key, {"query": "query Adhoc { __typename }"})
    metrics = (await known_http.get("/metrics")).text

    assert operation_labels(metrics) == {"Ping", "CheckoutBanner", "other"}
    assert (
        'memberhub_graphql_requests_total{operation="CheckoutBanner",outcome="ok"} 2.0' in metrics
    )


async def test_metrics_show_outbox_backlog_webhook_deliveries_jobs_and_the_pool(http, admin):
    await created_member(admin, "POS", card("C-1"))

    metrics = (await http.get("/metrics")).text

    backlog = re.search(r"^memberhub_outbox_backlog (\S+)$", metrics, re.M)
    assert backlog is not None and float(backlog.group(1)) >= 1
    assert re.search(r"^memberhub_outbox_oldest_seconds \S+$", metrics, re.M)
    for status in ("PENDING", "DELIVERED", "FAILED"):
        assert f'memberhub_webhook_deliveries{{status="{status}"}} 0.0' in metrics
    assert re.search(r"^memberhub_jobs_failed \S+$", metrics, re.M)
    assert "# TYPE memberhub_jobs_queued gauge" in metrics
    assert re.search(r'^memberhub_db_pool_connections\{state="in_use"\} \S+$', metrics, re.M)
    assert re.search(r"^memberhub_db_pool_size [1-9]", metrics, re.M)

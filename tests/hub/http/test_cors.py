"""Browsers on the configured origins may call the API; others are refused."""

from __future__ import annotations

import httpx
import pytest

from hub.http.app import create_app

SHOP = "https://shop.example"


@pytest.fixture
async def cors_http(settings, engine, redis):
    app = create_app(
        settings.model_copy(update={"cors_origins": [SHOP]}), engine=engine, redis=redis
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://hub"
    ) as client:
        yield client
    await app.state.hub.reads.close()


def preflight(origin: str) -> dict[str, str]:
    return {
        "Origin": origin,
        "Access-Control-Request-Method": "POST",
        "Access-Control-Request-Headers": "authorization, content-type",
    }


async def test_preflight_from_a_configured_origin_is_allowed(cors_http, new_key):
    key = await new_key("frontend")

    response = await cors_http.options("/graphql", headers=preflight(SHOP))
    call = await cors_http.post(
        "/graphql",
        json={"query": "{ __typename }"},
        headers={"Origin": SHOP, "Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == SHOP
    allowed = response.headers["access-control-allow-headers"].lower()
    assert "authorization" in allowed and "content-type" in allowed
    assert "POST" in response.headers["access-control-allow-methods"]
    assert call.status_code == 200
    assert call.headers["access-control-allow-origin"] == SHOP


async def test_preflight_from_another_origin_is_refused(cors_http):
    response = await cors_http.options("/graphql", headers=preflight("https://evil.example"))

    assert response.status_code == 400
    assert "access-control-allow-origin" not in response.headers


async def test_without_configured_origins_no_browser_origin_is_allowed(http):
    response = await http.options("/graphql", headers=preflight(SHOP))

    assert "access-control-allow-origin" not in response.headers

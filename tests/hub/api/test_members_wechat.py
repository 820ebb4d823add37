"""WeChat mini-program login against a fake WeChat server on 127.0.0.1."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import text
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from hub.settings import Settings
from tests.graphql_client import GraphQLClient
from tests.hub.api.members_graphql import IDENTIFY
from tests.live_server import serve_in_thread

APPS = {"wx-shop": "shop-secret", "wx-club": "club-secret"}

#: code -> what WeChat answers for it (per AppID where it matters).
SESSIONS = {
    "code-li": {"openid": "o-li-shop", "session_key": "k1"},
    "code-wang-shop": {"openid": "o-wang-shop", "unionid": "u-wang", "session_key": "k2"},
    "code-wang-club": {"openid": "o-wang-club", "unionid": "u-wang", "session_key": "k3"},
}

LOGIN = """
mutation Login($app: String!, $code: String!, $profile: ProfileInput) {
  loginWithWechat(appId: $app, code: $code, profile: $profile) {
    token expiresAt
    member { id registeredChannel profile { name } identities { type namespace value verified } }
    userErrors { code field message }
  }
}
"""

ME = "query { me { id } }"


async def jscode2session(request: Request) -> JSONResponse:
    params = request.query_params
    if params.get("grant_type") != "authorization_code" or APPS.get(
        params.get("appid", "")
    ) != params.get("secret"):
        return JSONResponse({"errcode": 40125, "errmsg": "invalid appsecret"})
    if params["js_code"] == "code-slow":
        await asyncio.sleep(2)
    answer = SESSIONS.get(params["js_code"])
    if answer is None:
        return JSONResponse({"errcode": 40029, "errmsg": "invalid code"})
    return JSONResponse(answer)


@pytest.fixture(scope="module")
def wechat_url() -> Iterator[str]:
    with serve_in_thread(
        lambda: Starlette(routes=[Route("/sns/jscode2session", jscode2session)])
    ) as url:
        yield url


@pytest.fixture
def settings(settings: Settings, wechat_url: str) -> Settings:
    return settings.model_copy(
        update={
            "wechat_api_base_url": wechat_url,
            "wechat_apps": Settings(wechat_apps=APPS).wechat_apps,
            "wechat_timeout_seconds": 0.5,
        }
    )


async def members_count(engine) -> int:
    async with engine.connect() as conn:
        return (await conn.execute(text("SELECT count(*) FROM members"))).scalar_one()


async def login(client: GraphQLClient, app: str, code: str, **variables) -> dict:
    return (await client.data(LOGIN, app=app, code=code, **variables))["loginWithWechat"]


async def test_first_login_creates_and_the_second_matches(graphql_client, http):
    frontend = await graphql_client("frontend")

    first = await login(frontend, "wx-shop", "code-li", profile={"name": "Li"})
    second = await login(frontend, "wx-shop", "code-li")

    assert first["userErrors"] == [] and first["token"].startswith("mt.")
    assert first["member"]["registeredChannel"] == "MINI_PROGRAM"
    # The frontend backend holds no pii:read: it sees the name and the OpenID masked.
    assert first["member"]["profile"] == {"name": "L**"}
    assert first["member"]["identities"] == [
        {"type": "WECHAT_OPENID", "namespace": "wx-shop", "value": "o-****op", "verified": True}
    ]
    assert second["member"]["id"] == first["member"]["id"]
    me = await GraphQLClient(http, second["token"]).data(ME)
    assert me["me"]["id"] == first["member"]["id"]


async def test_wechat_errors_are_user_errors_and_create_nothing(graphql_client, engine):
    frontend = await graphql_client("frontend")

    bad_code = await login(frontend, "wx-shop", "code-forged")
    unknown_app = await login(frontend, "wx-unknown", "code-li")
    timeout = await login(frontend, "wx-shop", "code-slow")

    assert bad_code["token"] is None
    assert bad_code["userErrors"][0]["code"] == "INVALID_INPUT"
    assert bad_code["userErrors"][0]["field"] == ["code"]
    assert "40029" in bad_code["userErrors"][0]["message"]
    assert unknown_app["userErrors"][0]["field"] == ["appId"]
    assert timeout["userErrors"][0]["code"] == "INVALID_INPUT"
    assert timeout["token"] is None
    assert await members_count(engine) == 0


async def test_a_unionid_seen_from_a_second_app_links_to_the_same_member(graphql_client, admin):
    frontend = await graphql_client("frontend")

    shop = await login(frontend, "wx-shop", "code-wang-shop")
    club = await login(frontend, "wx-club", "code-wang-club")

    assert club["member"]["id"] == shop["member"]["id"]
    assert sorted((i["type"], i["namespace"]) for i in club["member"]["identities"]) == [
        ("WECHAT_OPENID", "wx-club"),
        ("WECHAT_OPENID", "wx-shop"),
        ("WECHAT_UNIONID", None),
    ]
    # And the POS finds the same person by the UnionID.
    found = await admin.data(
        IDENTIFY,
        input={"identities": [{"type": "WECHAT_UNIONID", "value": "u-wang"}], "channel": "POS"},
    )
    assert found["identify"]["member"]["id"] == shop["member"]["id"]


async def test_only_frontends_and_operators_log_members_in(graphql_client):
    pos = await graphql_client("pos", store="S001")

    refused = await login(pos, "wx-shop", "code-li")

    assert refused["userErrors"][0]["code"] == "FORBIDDEN"

"""The cost estimate and the page-size cap count every ``first``: one left out counts the
field's default, one given as a variable counts its value or its definition's default."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from hub.http.app import create_app
from tests.graphql_client import GraphQLClient
from tests.live_server import serve_in_thread

NESTED_DEFAULTS = """
{ members { edges { node { id purchases { edges { node { id receiptNo amount } } } } } } }
"""
NESTED_LITERALS = """
{ members(first: 2) { edges { node { id purchases(first: 2) { edges { node { id } } } } } } }
"""
VARIABLE_DEFAULT = """
query Members($n: Int = 150) { members(first: $n) { edges { node { id } } } }
"""
VARIABLE = """
query Members($n: Int) { members(first: $n) { edges { node { id } } } }
"""


@pytest.fixture
async def client(settings, new_key) -> AsyncIterator[GraphQLClient]:
    limited = settings.model_copy(update={"query_max_cost": 500, "query_max_page_size": 100})
    with serve_in_thread(lambda: create_app(limited)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as http:
            yield GraphQLClient(http, await new_key("admin"))


def refusal(body: dict) -> list[str]:
    return [e.get("extensions", {}).get("code") for e in body.get("errors", [])]


async def test_defaults_count_in_the_cost(client):
    body = await client.execute(NESTED_DEFAULTS)

    assert refusal(body) == ["QUERY_TOO_COMPLEX"], body
    assert "data" not in body


async def test_the_same_query_with_small_pages_runs(client):
    body = await client.execute(NESTED_LITERALS)

    assert "errors" not in body, body


async def test_a_variable_default_over_the_page_cap_is_refused(client):
    body = await client.execute(VARIABLE_DEFAULT)

    assert refusal(body) == ["QUERY_TOO_COMPLEX"], body


@pytest.mark.parametrize("n", [150, 150.0])
async def test_a_variable_over_the_page_cap_is_refused(client, n):
    body = await client.execute(VARIABLE, n=n)

    assert refusal(body) == ["QUERY_TOO_COMPLEX"], body

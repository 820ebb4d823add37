"""The hub as clients reach it: uvicorn on a free port, requests over real HTTP.

Faults that only show on the wire (a header uvicorn decodes differently, a body read in
chunks, a 500 written by the server rather than the app) are invisible to an in-process
transport, so every trust-boundary test talks to this server.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from hub.http.app import create_app
from tests.graphql_client import GraphQLClient
from tests.live_server import serve_in_thread


@pytest.fixture
def live_url(settings) -> Iterator[str]:  # type: ignore[no-untyped-def]
    """Base URL of a hub served by uvicorn in a thread (its own engine and event loop)."""
    with serve_in_thread(lambda: create_app(settings)) as base_url:
        yield base_url


@pytest.fixture
async def live_http(live_url: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=live_url, timeout=30) as client:
        yield client


@pytest.fixture
def live_client(live_http: httpx.AsyncClient, new_key):  # type: ignore[no-untyped-def]
    """A GraphQL client of the given kind talking to the live hub over HTTP."""

    async def make(kind: str, **options: object) -> GraphQLClient:
        return GraphQLClient(live_http, await new_key(kind, **options))

    return make

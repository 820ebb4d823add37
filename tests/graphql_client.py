"""A small GraphQL-over-HTTP client for tests: one API key, JSON in, JSON out."""

from __future__ import annotations

from typing import Any

import httpx


class GraphQLClient:
    def __init__(self, http: httpx.AsyncClient, key: str) -> None:
        self.http = http
        self.key = key

    async def execute(self, query: str, **variables: Any) -> dict[str, Any]:
        """POST the operation and answer the whole response body (data and errors)."""
        response = await self.http.post(
            "/graphql",
            json={"query": query, "variables": variables},
            headers={"Authorization": f"Bearer {self.key}"},
        )
        assert response.status_code == 200, response.text
        return response.json()

    async def data(self, query: str, **variables: Any) -> dict[str, Any]:
        """The ``data`` of a response that must have no top-level errors."""
        body = await self.execute(query, **variables)
        assert "errors" not in body, body["errors"]
        return body["data"]

"""Client developers of every kind get the schema (SDL) without admin introspection."""

from __future__ import annotations

from pathlib import Path

SCHEMA_FILE = Path(__file__).parents[3] / "schema.graphql"


async def test_schema_graphql_answers_the_sdl_to_any_authenticated_client(http, new_key):
    key = await new_key("pos", store="S001")

    response = await http.get("/schema.graphql", headers={"Authorization": f"Bearer {key}"})

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain")
    assert response.text == SCHEMA_FILE.read_text()


async def test_schema_graphql_needs_a_key(http):
    response = await http.get("/schema.graphql")

    assert response.status_code == 401
    assert "type Query" not in response.text

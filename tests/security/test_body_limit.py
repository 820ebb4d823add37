"""A request body over the limit is refused with 413 before it is read whole: by its
declared length, and counted while a chunked body streams."""

from __future__ import annotations

from collections.abc import AsyncIterator


async def test_a_body_over_the_limit_is_413(live_http, new_key):
    key = await new_key("admin")
    body = b'{"query": "{ __typename }", "variables": {"x": "' + b"x" * 2_000_000 + b'"}}'

    response = await live_http.post(
        "/graphql",
        content=body,
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )

    assert response.status_code == 413, response.text


async def test_a_chunked_body_over_the_limit_is_413(live_http, new_key):
    key = await new_key("admin")

    async def chunks() -> AsyncIterator[bytes]:
        yield b'{"query": "{ __typename }", "variables": {"x": "'
        for _ in range(40):
            yield b"x" * 65_536
        yield b'"}}'

    response = await live_http.post(
        "/graphql",
        content=chunks(),
        headers={"Authorization": f"Bearer {key}", "Content-Type": "application/json"},
    )

    assert response.status_code == 413, response.text


async def test_a_body_under_the_limit_is_served(live_http, new_key):
    key = await new_key("admin")

    response = await live_http.post(
        "/graphql",
        json={"query": "{ __typename }", "variables": {"x": "x" * 500_000}},
        headers={"Authorization": f"Bearer {key}"},
    )

    assert response.status_code == 200, response.text


async def test_a_long_operation_name_reaches_no_log_line(live_http, new_key, caplog):
    key = await new_key("admin")
    name = "Op" + "x" * 100_000

    named = await live_http.post(
        "/graphql",
        json={"query": "{ __typename }", "operationName": name},
        headers={"Authorization": f"Bearer {key}"},
    )
    declared = await live_http.post(
        "/graphql",
        json={"query": f"query {name} {{ __typename }}"},
        headers={"Authorization": f"Bearer {key}"},
    )

    assert named.status_code == 400, named.text
    assert declared.status_code == 200, declared.text
    assert all(len(record.getMessage()) < 2_000 for record in caplog.records)

"""When two non-null root fields fail, a planned query answers the error graphql-core does:
the one raised first."""

from __future__ import annotations

import httpx

from hub.http.app import create_app

QUERY = """
{
  members(after: "not-a-cursor") { totalCount }
  dashboard(from: "2026-02-01", to: "2026-01-01") { members }
}
"""


async def test_the_first_error_raised_goes_up_with_and_without_plans(
    settings, engine, redis, clock, new_key
):
    key = await new_key("admin")
    answers = []
    for plans in (True, False):
        app = create_app(
            settings.model_copy(update={"query_plans": plans}),
            engine=engine,
            redis=redis,
            clock=clock,
        )
        try:
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as client:
                response = await client.post(
                    "/graphql", json={"query": QUERY}, headers={"Authorization": f"Bearer {key}"}
                )
        finally:
            await app.state.hub.reads.close()
        body = response.json()
        answers.append((body["data"], [(e["message"], e["path"]) for e in body["errors"]]))

    planned, reference = answers
    # The dashboard refuses its range before any I/O; the cursor is read after a count.
    assert reference == (None, [("`to` is before `from`", ["dashboard"])])
    assert planned == reference

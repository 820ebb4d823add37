"""An app built without ``hub.log.configure_logging`` (embedded in another program) serves."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap

SCRIPT = textwrap.dedent(
    """
    import asyncio, sys
    import httpx
    from hub.http.app import create_app
    from hub.settings import Settings

    async def main() -> None:
        app = create_app(Settings(database_url=sys.argv[1], redis_url=sys.argv[2]))
        async with app.router.lifespan_context(app):
            transport = httpx.ASGITransport(app=app)
            async with httpx.AsyncClient(transport=transport, base_url="http://hub") as c:
                answer = await c.post(
                    "/graphql",
                    json={"query": "{ __typename }"},
                    headers={"Authorization": f"Bearer {sys.argv[3]}"},
                )
        print(answer.status_code, answer.text)

    asyncio.run(main())
    """
)


async def test_a_request_is_answered_with_structlog_left_as_it_comes(
    database_url, redis_url, new_key
):
    key = await new_key("admin")

    # A fresh interpreter: structlog caches its loggers on first use, so only a process
    # that never configured logging shows what an embedding program gets.
    run = await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-c", SCRIPT, database_url, redis_url, key],
        capture_output=True,
        text=True,
        timeout=60,
    )

    assert run.stdout.strip() == '200 {"data":{"__typename":"Query"}}', run.stderr[-2000:]

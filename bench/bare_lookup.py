"""The floor: Starlette + asyncpg running the hub's SQL for the lookup and the same JSON.

No GraphQL, no ORM, no authentication or rate limit: what the stack costs before the hub
adds anything. ``python -m bench.bare_lookup DSN PORT [WORKERS]``.
"""

from __future__ import annotations

import base64
import contextlib
import os
import sys
from collections.abc import AsyncIterator

import asyncpg
import orjson
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

# The statements the hub sends for this query (read off PostgreSQL's statement log).
MEMBER_BY_IDENTITY = (
    "SELECT members.* FROM members JOIN member_identities ON member_identities.member_id"
    " = members.id WHERE member_identities.type = $1"
    " AND member_identities.namespace IS NULL AND member_identities.value = $2"
)
TIER = (
    "SELECT member_id, tier_code, since FROM member_tiers"
    " WHERE member_id = ANY($1) AND until IS NULL"
)
BALANCES = (
    "SELECT b.member_id, b.bucket, b.balance, a.lifetime_earned"
    " FROM unnest(CAST($1 AS bigint[])) AS k(member_id)"
    " JOIN points_accounts a ON a.member_id = k.member_id"
    " JOIN points_balances b ON b.member_id = k.member_id"
)


def build_app(dsn: str) -> Starlette:
    pool: asyncpg.Pool | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=4, max_size=20)
        try:
            yield
        finally:
            await pool.close()

    async def lookup(request: Request) -> Response:
        body = orjson.loads(await request.body())
        phone = body["variables"]["phone"]
        assert pool is not None
        # Autocommit, as the hub reads: each statement is its own READ COMMITTED snapshot.
        async with pool.acquire() as conn:
            row = await conn.fetchrow(MEMBER_BY_IDENTITY, "PHONE", phone)
            member = None
            if row is not None:
                tier = await conn.fetchrow(TIER, [row["id"]])
                balances = {
                    r["bucket"]: r["balance"] for r in await conn.fetch(BALANCES, [row["id"]])
                }
                member = {
                    "id": base64.b64encode(f"Member:{row['id']}".encode()).decode(),
                    "tier": {"code": tier["tier_code"] if tier else "REGULAR"},
                    "points": {
                        "available": balances.get("AVAILABLE", 0),
                        "pending": balances.get("PENDING", 0),
                    },
                }
        return Response(orjson.dumps({"data": {"member": member}}), media_type="application/json")

    async def healthz(_: Request) -> Response:
        return PlainTextResponse("ok")

    return Starlette(
        routes=[Route("/graphql", lookup, methods=["POST"]), Route("/healthz", healthz)],
        lifespan=lifespan,
    )


def app_from_environment() -> Starlette:
    """For uvicorn's worker processes, which take the DSN from the environment."""
    return build_app(os.environ["BENCH_BARE_DSN"])


if __name__ == "__main__":
    dsn, port = sys.argv[1], int(sys.argv[2])
    workers = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    if workers == 1:
        uvicorn.run(
            build_app(dsn), host="127.0.0.1", port=port, log_level="warning", access_log=False
        )
    else:
        os.environ["BENCH_BARE_DSN"] = dsn
        uvicorn.run(
            "bench.bare_lookup:app_from_environment",
            factory=True,
            workers=workers,
            host="127.0.0.1",
            port=port,
            log_level="warning",
            access_log=False,
        )

"""The floor: Starlette + asyncpg running the hub's SQL for the lookup and the same JSON.

No GraphQL, no ORM, no authentication or rate limit: what the stack costs before the hub
adds anything. ``python -m bench.bare_lookup DSN PORT``.
"""

from __future__ import annotations

import base64
import contextlib
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
    "SELECT members.id, members.status, members.merged_into, members.registered_channel,"
    " members.name, members.gender, members.birthday, members.region, members.created_at,"
    " members.updated_at FROM members JOIN member_identities"
    " ON member_identities.member_id = members.id WHERE member_identities.type = $1::VARCHAR"
    " AND member_identities.namespace IS NULL AND member_identities.value = $2::VARCHAR"
)
TIER = (
    "SELECT member_id, tier_code, since FROM member_tiers"
    " WHERE member_id = ANY($1::BIGINT[]) AND until IS NULL"
)
BALANCES = (
    "SELECT points_balances.member_id, points_balances.bucket, points_balances.balance,"
    " points_accounts.lifetime_earned FROM points_balances JOIN points_accounts"
    " ON points_accounts.member_id = points_balances.member_id"
    " WHERE points_balances.member_id IN ($1::BIGINT)"
)


def build_app(dsn: str) -> Starlette:
    pool: asyncpg.Pool | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=20, max_size=30)
        try:
            yield
        finally:
            await pool.close()

    async def lookup(request: Request) -> Response:
        body = orjson.loads(await request.body())
        phone = body["variables"]["phone"]
        assert pool is not None
        async with pool.acquire() as conn, conn.transaction():
            row = await conn.fetchrow(MEMBER_BY_IDENTITY, "PHONE", phone)
            member = None
            if row is not None:
                tier = await conn.fetchrow(TIER, [row["id"]])
                balances = {
                    r["bucket"]: r["balance"] for r in await conn.fetch(BALANCES, row["id"])
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


if __name__ == "__main__":
    uvicorn.run(
        build_app(sys.argv[1]),
        host="127.0.0.1",
        port=int(sys.argv[2]),
        log_level="warning",
        access_log=False,
    )

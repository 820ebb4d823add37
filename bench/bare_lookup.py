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

# The statement the hub sends for this query (read off PostgreSQL's statement log): the
# member by identity with its current tier and balances (``hub.loading.member_lookup``).
LOOKUP = (
    "SELECT members.*, tier.tier_code AS current_tier_code, tier.since AS current_tier_since,"
    " account.lifetime_earned AS account_lifetime_earned,"
    " buckets.available AS account_available, buckets.pending AS account_pending,"
    " buckets.held AS account_held"
    " FROM member_identities"
    " JOIN members ON members.id = member_identities.member_id"
    " LEFT JOIN member_tiers tier ON tier.member_id = members.id AND tier.until IS NULL"
    " LEFT JOIN points_accounts account ON account.member_id = members.id"
    " LEFT JOIN LATERAL (SELECT"
    "  sum(b.balance) FILTER (WHERE b.bucket = 'AVAILABLE') AS available,"
    "  sum(b.balance) FILTER (WHERE b.bucket = 'PENDING') AS pending,"
    "  sum(b.balance) FILTER (WHERE b.bucket = 'HELD') AS held"
    "  FROM points_balances b WHERE b.member_id = account.member_id) buckets ON true"
    " WHERE member_identities.type = $1 AND member_identities.value = $2"
    " AND member_identities.namespace IS NULL"
)


async def _keep_as_is(connection: asyncpg.Connection) -> None:
    """No reset on release, as the hub's read pool: a lone SELECT in autocommit leaves
    nothing behind, and asyncpg's default reset is a round trip per request."""


def build_app(dsn: str) -> Starlette:
    pool: asyncpg.Pool | None = None

    @contextlib.asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        nonlocal pool
        pool = await asyncpg.create_pool(dsn, min_size=4, max_size=20, reset=_keep_as_is)
        try:
            yield
        finally:
            await pool.close()

    async def lookup(request: Request) -> Response:
        body = orjson.loads(await request.body())
        phone = body["variables"]["phone"]
        assert pool is not None
        row = await pool.fetchrow(LOOKUP, "PHONE", phone)
        member = None
        if row is not None:
            member = {
                "id": base64.b64encode(f"Member:{row['id']}".encode()).decode(),
                "tier": {"code": row["current_tier_code"] or "REGULAR"},
                "points": {
                    "available": row["account_available"] or 0,
                    "pending": row["account_pending"] or 0,
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

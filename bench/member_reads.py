"""Member reads: a mini-program's member reading its own account with a member token.

    python -m bench.member_reads [--members 10000] [--tokens 500] [--seconds 15] [--runs 3]
                                 [--connections 64]

Loads members as the lookup benchmark does, issues member tokens through the API (a
frontend client's ``issueMemberToken``), then wrk sends ``me { id tier { code } points {
available pending } }`` with a token picked at random for each request. Every request
checks its token's member (merged? erased?) before it runs, so this is the path of every
mini-program call. Rate limits are lifted, as in the lookup benchmark: the figure is what
the hub can serve. Reports the median requests/s, p50 and p99 of the runs.
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.harness import (
    NO_LIMIT,
    LoadResult,
    fresh_database,
    hub_server,
    load_arguments,
    median_result,
    wrk,
)
from bench.lookup_data import load_members
from hub.clients import create_client
from hub.db.engine import create_engine, create_session_factory
from hub.http.principal import ClientKind
from hub.ids import encode_id
from hub.wiring import build_event_bus

QUERY = "{ me { id tier { code } points { available pending } } }"
ISSUE = (
    "mutation T($id: ID!) { issueMemberToken(memberId: $id, ttlSeconds: 86400)"
    " { token userErrors { code } } }"
)
SCRIPT = Path(__file__).with_name("member_reads.lua")
DATABASE = "memberhub_bench_member_reads"


async def frontend_and_members(url: str, tokens: int) -> tuple[str, list[int]]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with create_session_factory(engine, build_event_bus()).begin() as session:
            _, key = await create_client(session, name="mini-program", kind=ClientKind.FRONTEND)
            ids = await session.scalars(
                text("SELECT id FROM members ORDER BY random() LIMIT :n"), {"n": tokens}
            )
            return key, list(ids)
    finally:
        await engine.dispose()


async def issue_tokens(url: str, key: str, member_ids: list[int]) -> list[str]:
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=60
    ) as client:
        tokens = []
        for member_id in member_ids:
            answer = await client.post(
                "/graphql",
                json={"query": ISSUE, "variables": {"id": encode_id("Member", member_id)}},
            )
            tokens.append(answer.json()["data"]["issueMemberToken"]["token"])
        return tokens


def main() -> None:
    parser = load_arguments(__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=500)
    args = parser.parse_args()

    url = asyncio.run(fresh_database(DATABASE))
    asyncio.run(load_members(url, args.members))
    key, member_ids = asyncio.run(frontend_and_members(url, args.tokens))
    # The limiter still runs (leases from Redis); it just never refuses.
    env = {"MEMBERHUB_RATE_LIMITS": json.dumps({"frontend": NO_LIMIT, "member": NO_LIMIT})}
    with (
        hub_server(url, env=env) as hub,
        tempfile.NamedTemporaryFile("w", suffix=".tokens") as tokens_file,
    ):
        tokens_file.write("\n".join(asyncio.run(issue_tokens(hub.url, key, member_ids))))
        tokens_file.flush()
        load_env = {"BENCH_TOKENS_FILE": tokens_file.name, "BENCH_QUERY": QUERY}

        def load(seconds: int) -> LoadResult:
            return wrk(
                f"{hub.url}/graphql",
                SCRIPT,
                connections=args.connections,
                seconds=seconds,
                env=load_env,
            )

        load(5)  # warm-up
        result = median_result([load(args.seconds) for _ in range(args.runs)])
    print(
        f"members {args.members}, {args.tokens} member tokens, {args.connections} connections,"
        f" {args.runs} runs of {args.seconds}s, medians"
    )
    print(
        f"me: {result.requests_per_second:.0f} req/s, p50 {result.p50_ms:.1f} ms,"
        f" p99 {result.p99_ms:.1f} ms, non-2xx {result.non_2xx}"
    )


if __name__ == "__main__":
    main()

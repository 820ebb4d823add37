"""Identify benchmark: new and returning members per second through the hub's API.

    python -m bench.identify [--members 10000] [--seconds 15] [--runs 3] [--connections 64]

A till identifies members with ``identify``: "new" sends a fresh verified phone and POS
card each time (a member is created, both identities linked, the sign-up bonus posted and
the events written to the outbox); "returning" sends the verified phone of a member loaded
before the run (MATCHED; its ``lastSeenAt`` is updated). Reports median requests/s, p50
and p99 of each, and checks that every completed "new" request created exactly one member.
"""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

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
from hub.db.engine import create_engine

SCRIPT = Path(__file__).with_name("identify.lua")
DATABASE = "memberhub_bench_identify"


async def member_count(url: str) -> int:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            return int(await conn.scalar(text("SELECT count(*) FROM members")))
    finally:
        await engine.dispose()


def main() -> None:
    parser = load_arguments(__doc__.splitlines()[0])
    args = parser.parse_args()

    url = asyncio.run(fresh_database(DATABASE))
    key = asyncio.run(load_members(url, args.members))
    results: dict[str, list[LoadResult]] = {"new": [], "returning": []}
    env = {"MEMBERHUB_RATE_LIMIT_OVERRIDES": json.dumps({"bench": NO_LIMIT})}
    with hub_server(url, env=env) as hub:

        def load(mode: str, seconds: int) -> LoadResult:
            return wrk(
                f"{hub.url}/graphql",
                SCRIPT,
                connections=args.connections,
                seconds=seconds,
                env={"BENCH_MODE": mode, "BENCH_KEY": key, "BENCH_MEMBERS": str(args.members)},
            )

        load("returning", 5)  # warm-up
        before = asyncio.run(member_count(url))
        completed_new = 0
        for _ in range(args.runs):
            result = load("new", args.seconds)
            completed_new += result.requests
            results["new"].append(result)
            results["returning"].append(load("returning", args.seconds))
        created = asyncio.run(member_count(url)) - before

    print(f"{args.connections} connections, {args.runs} runs of {args.seconds}s, medians")
    print(f"{'':10}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}")
    for mode, runs in results.items():
        result = median_result(runs)
        print(
            f"{mode:10}{result.requests_per_second:10.0f}{result.p50_ms:10.1f}"
            f"{result.p99_ms:10.1f}{result.non_2xx:9d}"
        )
    print(f"members created by 'new' runs: {created}, 'new' requests completed: {completed_new}")


if __name__ == "__main__":
    main()

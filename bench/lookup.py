"""Lookup benchmark: the hub against the bare stack, side by side on one database.

    python -m bench.lookup [--members 10000] [--seconds 15] [--runs 3] [--connections 64]
                           [--workers 1]

Loads members with phones and points into a scratch database, starts the hub
(``memberhub serve``) and the bare endpoint (``bench.bare_lookup``) as child processes,
warms both up, then alternates wrk runs of the same lookup against each and reports the
median requests/s, p50 and p99 of each, their ratio, and the hub's peak RSS under load.
``--workers N`` runs both servers with N processes each.
Needs ``wrk`` (Debian: apt-get install wrk).
"""

from __future__ import annotations

import asyncio
import json
import os
from pathlib import Path

from bench.harness import (
    NO_LIMIT,
    PYTHON,
    LoadResult,
    PeakRss,
    free_port,
    fresh_database,
    hub_server,
    load_arguments,
    median_result,
    server,
    wrk,
)
from bench.lookup_data import load_members

QUERY = (
    "query Lookup($phone: String!) { member(identity: {type: PHONE, value: $phone})"
    " { id tier { code } points { available pending } } }"
)
SCRIPT = Path(__file__).with_name("lookup.lua")
DATABASE = "memberhub_bench_lookup"


def main() -> None:
    parser = load_arguments(__doc__.splitlines()[0])
    parser.add_argument("--query", default=QUERY)
    parser.add_argument("--workers", type=int, default=1, help="processes per server")
    args = parser.parse_args()

    url = asyncio.run(fresh_database(DATABASE))
    key = asyncio.run(load_members(url, args.members))
    bare_port = free_port()
    # The limiter still runs (leases from Redis); it just never refuses.
    hub_env = {"MEMBERHUB_RATE_LIMIT_OVERRIDES": json.dumps({"bench": NO_LIMIT})}
    load_env = {
        "BENCH_MEMBERS": str(args.members),
        "BENCH_KEY": key,
        "BENCH_QUERY": args.query.replace('"', '\\"'),
    }
    bare_argv = [PYTHON, "-m", "bench.bare_lookup", url, str(bare_port), str(args.workers)]
    with (
        hub_server(url, workers=args.workers, env=hub_env) as hub,
        server("bare", bare_argv, {"PYTHONPATH": os.getcwd()}, bare_port) as bare,
    ):

        def load(target_url: str, seconds: int) -> LoadResult:
            return wrk(
                f"{target_url}/graphql",
                SCRIPT,
                connections=args.connections,
                seconds=seconds,
                env=load_env,
            )

        for target in (hub, bare):
            load(target.url, 5)  # warm-up: caches, pools, prepared statements
        results: dict[str, list[LoadResult]] = {"hub": [], "bare": []}
        peak = 0.0
        for _ in range(args.runs):
            with PeakRss(hub) as rss:
                results["hub"].append(load(hub.url, args.seconds))
            peak = max(peak, rss.peak_mb)
            results["bare"].append(load(bare.url, args.seconds))

    hub_result, bare_result = median_result(results["hub"]), median_result(results["bare"])
    print(
        f"members {args.members}, {args.connections} connections, {args.workers} worker(s) "
        f"per server, {args.runs} runs of {args.seconds}s, medians"
    )
    print(f"{'':6}{'req/s':>10}{'p50 ms':>10}{'p99 ms':>10}{'non-2xx':>9}")
    for name, result in (("hub", hub_result), ("bare", bare_result)):
        print(
            f"{name:6}{result.requests_per_second:10.0f}{result.p50_ms:10.1f}"
            f"{result.p99_ms:10.1f}{result.non_2xx:9d}"
        )
    ratio = hub_result.requests_per_second / bare_result.requests_per_second
    print(f"throughput ratio hub/bare: {ratio:.0%}")
    print(f"p99 ratio hub/bare: {hub_result.p99_ms / bare_result.p99_ms:.2f}x")
    print(f"hub peak RSS under load: {peak:.0f} MB")


if __name__ == "__main__":
    main()

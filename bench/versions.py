"""Two versions of the hub side by side: ``recordPurchases`` by one buyer shape, round by round.

    python -m bench.versions OLD NEW [--rounds 30] [--shape id] [--batches 30] [--members 10000]

OLD and NEW are git revisions, or ``.`` for the working tree. On a shared machine the same
benchmark moves by 10 to 15% from one minute to the next, more than most changes it is
meant to judge, and two benchmark runs minutes apart compare the machine's weather as much
as the code. Here each version gets its own checkout (a git worktree), its own database
(prepared by that version's own ``bench.ingest.prepare``) and its own hub process, both
running at once; each round sends the same number of batches of 100 (``bench.ingest``'s
shapes, 4 in flight) to one and then to the other, the order alternating, so neighbouring
runs share the weather. It prints each round, each version's medians (purchases/s, CPU a
purchase of the hub and of PostgreSQL), and the median of the rounds' NEW/OLD ratios with
the number of rounds NEW won.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from random import Random

from bench.harness import (
    NO_LIMIT,
    REDIS_URL,
    Server,
    hub_server,
    postmaster,
    tree_cpu_seconds,
)
from bench.ingest import SHAPES, purchases, send_hub

ROOT = Path(__file__).parents[1]
#: Run by each version's own code: its database, prepared as its own benchmark prepares it.
_PREPARE = """
import asyncio, json, sys
from bench.harness import fresh_database
from bench.ingest import prepare
url = asyncio.run(fresh_database(sys.argv[1]))
key, ids = asyncio.run(prepare(url, int(sys.argv[2])))
print(json.dumps({"url": url, "key": key, "ids": ids}))
"""


@contextlib.contextmanager
def checkout(revision: str) -> Iterator[Path]:
    """The tree of ``revision``: the working tree for ``.``, else a temporary worktree."""
    if revision == ".":
        yield ROOT
        return
    with tempfile.TemporaryDirectory(prefix="bench-version-") as parent:
        path = Path(parent) / "tree"
        git = ["git", "-C", str(ROOT), "worktree"]
        subprocess.run([*git, "add", "--detach", str(path), revision], check=True)
        try:
            yield path
        finally:
            subprocess.run([*git, "remove", "--force", str(path)], check=True)


def _prepared(tree: Path, database: str, members: int) -> dict:
    done = subprocess.run(
        [sys.executable, "-c", _PREPARE, database, str(members)],
        cwd=tree,
        env={**os.environ, "PYTHONPATH": str(tree)},
        capture_output=True,
        text=True,
        check=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def _hub(tree: Path, prepared: dict, redis_db: int) -> contextlib.AbstractContextManager[Server]:
    settings = {
        # Each hub its own Redis database: the rate limiter's keys name client IDs, which
        # the two databases share.
        "MEMBERHUB_REDIS_URL": f"{REDIS_URL.rsplit('/', 1)[0]}/{redis_db}",
        "MEMBERHUB_RATE_LIMIT_OVERRIDES": json.dumps({"till": NO_LIMIT}),
    }
    return hub_server(prepared["url"], env=settings, tree=tree)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("old", help="a git revision, or . for the working tree")
    parser.add_argument("new", help="a git revision, or . for the working tree")
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--shape", default="id", choices=[s for s in SHAPES if s != "coupon"])
    parser.add_argument("--batches", type=int, default=30, help="batches of 100 a run")
    parser.add_argument("--members", type=int, default=10_000)
    args = parser.parse_args()
    versions = {"old": args.old, "new": args.new}
    tag = str(int(time.time()))
    rng = Random(11)
    with contextlib.ExitStack() as stack:
        hubs: dict[str, tuple[Server, dict]] = {}
        for n, (name, revision) in enumerate(versions.items()):
            tree = stack.enter_context(checkout(revision))
            prepared = _prepared(tree, f"memberhub_bench_version_{name}", args.members)
            hubs[name] = (stack.enter_context(_hub(tree, prepared, 4 + n)), prepared)
        postgres = asyncio.run(postmaster(hubs["old"][1]["url"]))
        for hub, prepared in hubs.values():
            warm = [purchases(f"{tag}-warm", 100, prepared["ids"], rng, args.shape)]
            asyncio.run(send_hub(hub.url, prepared["key"], warm, 1))
        results: dict[str, dict[str, list[float]]] = {
            name: {"rate": [], "hub": [], "pg": []} for name in versions
        }
        for round_no in range(args.rounds):
            order = list(versions) if round_no % 2 == 0 else list(versions)[::-1]
            for name in order:
                hub, prepared = hubs[name]
                batches = [
                    purchases(f"{tag}-{name}{round_no}-{b}", 100, prepared["ids"], rng, args.shape)
                    for b in range(args.batches)
                ]
                count = sum(len(b) for b in batches)
                # The other hub's worker may still be dispatching its last round's events.
                time.sleep(1)
                before = hub.cpu_tree_seconds(), tree_cpu_seconds(postgres)
                rate = asyncio.run(send_hub(hub.url, prepared["key"], batches, 4))
                measured = results[name]
                measured["rate"].append(rate)
                measured["hub"].append((hub.cpu_tree_seconds() - before[0]) / count * 1e3)
                measured["pg"].append((tree_cpu_seconds(postgres) - before[1]) / count * 1e3)
            print(
                f"round {round_no + 1:2}: "
                + " | ".join(f"{name} {results[name]['rate'][-1]:5.0f}/s" for name in versions),
                flush=True,
            )
    print(f"{args.rounds} rounds of {args.batches} batches of 100 by {SHAPES[args.shape]}")
    for name, revision in versions.items():
        r = results[name]
        print(
            f"{name} ({revision}): {statistics.median(r['rate']):.0f} purchases/s,"
            f" CPU ms a purchase: hub {statistics.median(r['hub']):.3f},"
            f" PostgreSQL {statistics.median(r['pg']):.3f}"
        )
    ratios = [n / o for n, o in zip(results["new"]["rate"], results["old"]["rate"], strict=True)]
    print(
        f"new/old: median of the rounds' ratios {statistics.median(ratios):.3f};"
        f" new faster in {sum(r > 1 for r in ratios)} of {len(ratios)} rounds"
    )


if __name__ == "__main__":
    main()

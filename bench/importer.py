"""Import throughput: ``memberhub import purchases`` of a generated file, rows/s and peak RSS.

    python -m bench.importer [--rows 1000000] [--members 100000] [--award-points]

Writes a CSV of ``--rows`` purchases (one item line each; buyers by phone among
``--members`` members loaded first, a tenth of the rows by unknown phones), then runs the
import as a child process (the command a user runs) on a scratch database, sampling the
child's resident memory, and reports rows/s and the peak.
"""

from __future__ import annotations

import argparse
import asyncio
import csv
import os
import random
import subprocess
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
from sqlalchemy import text

from bench.harness import PYTHON, fresh_database
from hub.db.engine import create_engine
from sync.importer.purchases import COLUMNS

DATABASE = "memberhub_bench_import"
FIRST_PHONE = 13_700_000_000


def write_file(path: Path, rows: int, members: int) -> None:
    rng = random.Random(3)
    now = datetime.now(UTC)
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(COLUMNS)
        for n in range(rows):
            buyer = rng.randrange(int(members * 1.1))
            amount = round(rng.lognormvariate(5.0, 0.8), 2)
            at = now - timedelta(days=rng.uniform(1, 700))
            writer.writerow(
                [
                    f"S{n % 8}",
                    f"H{n}",
                    "POS",
                    at.isoformat(timespec="seconds"),
                    f"{amount:.2f}",
                    f"+86{FIRST_PHONE + buyer}",
                    "",
                    "",
                    f"SKU-{n % 500}",
                    "tea",
                    1,
                    f"{amount:.2f}",
                ]
            )


async def load_members(url: str, members: int) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    now = datetime.now(UTC)
    try:
        async with engine.begin() as conn:
            await conn.execute(
                text(
                    "INSERT INTO members (registered_channel, created_at, updated_at)"
                    " SELECT 'POS', :now, :now FROM generate_series(1, :n)"
                ),
                {"now": now, "n": members},
            )
            await conn.execute(
                text(
                    "INSERT INTO member_identities"
                    " (member_id, type, value, verified, channel, linked_at, last_seen_at)"
                    " SELECT id, 'PHONE', '+86' || (:first + id - 1)::text, true, 'POS',"
                    " :now, :now FROM members"
                ),
                {"first": FIRST_PHONE, "now": now},
            )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--members", type=int, default=100_000)
    parser.add_argument("--award-points", action="store_true")
    args = parser.parse_args()
    url = asyncio.run(fresh_database(DATABASE))
    asyncio.run(load_members(url, args.members))
    with tempfile.TemporaryDirectory() as work:
        file = Path(work) / "purchases.csv"
        write_file(file, args.rows, args.members)
        size_mb = file.stat().st_size / 2**20
        argv = [str(Path(PYTHON).with_name("memberhub")), "import", "purchases", str(file)]
        if args.award_points:
            argv.append("--award-points")
        env = {**os.environ, "MEMBERHUB_DATABASE_URL": url, "MEMBERHUB_LOG_LEVEL": "WARNING"}
        started = time.perf_counter()
        child = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, text=True)
        process = psutil.Process(child.pid)
        peak = 0.0
        while child.poll() is None:
            try:
                peak = max(peak, process.memory_info().rss / 2**20)
            except psutil.NoSuchProcess:
                break
            time.sleep(0.05)
        elapsed = time.perf_counter() - started
        output = child.stdout.read() if child.stdout else ""
    print(output.strip())
    print(
        f"{args.rows:,} rows ({size_mb:.0f} MB) in {elapsed:.1f} s: "
        f"{args.rows / elapsed:,.0f} rows/s, peak RSS {peak:.0f} MB"
    )


if __name__ == "__main__":
    main()

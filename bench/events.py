"""Behaviour-event ingest benchmark: ``trackEvents`` in batches of 500 over HTTP, and the
ingest statement alone.

    python -m bench.events [--members 10000] [--batches 80] [--batch-size 500] [--senders 4]
                           [--workers 2] [--runs 3]

The hub (``memberhub serve``, a child process) receives batches from a relay key holding
``events:write``; each batch is one GraphQL request, validated field by field and stored
with one ``INSERT ... SELECT FROM unnest(...) ON CONFLICT DO NOTHING``. The statement
alone runs ``sync.behaviour.ingest.record_events`` on the same batches from this process,
one transaction per batch, ``--senders`` at once. Runs alternate, the medians are reported.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
from datetime import UTC, datetime, timedelta
from random import Random
from typing import Any

import httpx
from sqlalchemy import text

from bench.harness import NO_LIMIT, fresh_database, hub_server
from hub.clients import create_client
from hub.db.engine import create_engine, create_session_factory
from hub.http.principal import ClientKind
from hub.ids import encode_id
from hub.wiring import build_event_bus
from sync.behaviour.ingest import EventColumns, record_events

DATABASE = "memberhub_bench_events"
TRACK = (
    "mutation Track($events: [BehaviourEventInput!]!) {"
    " trackEvents(events: $events) { accepted duplicates userErrors { code } } }"
)
KINDS = ("PAGE_VIEW", "VIEW_PRODUCT", "VIEW_PRODUCT", "SEARCH", "ADD_TO_CART", "FAVORITE")
CATEGORIES = ("奶粉", "纸尿裤", "玩具", "辅食", "洗护")


async def prepare(url: str, members: int) -> tuple[str, list[int]]:
    engine = create_engine(url, pool_size=2, max_overflow=0)
    sessions = create_session_factory(engine, build_event_bus())
    now = datetime.now(UTC)
    try:
        async with sessions.begin() as session:
            await session.execute(
                text(
                    "INSERT INTO members (registered_channel, created_at, updated_at)"
                    " SELECT 'MINI_PROGRAM', :at, :at FROM generate_series(1, :n)"
                ),
                {"at": now - timedelta(days=400), "n": members},
            )
            _, key = await create_client(
                session, name="relay", kind=ClientKind.PARTNER, extra_scopes=("events:write",)
            )
            ids = list((await session.scalars(text("SELECT id FROM members ORDER BY id"))).all())
    finally:
        await engine.dispose()
    return key, ids


def batch(prefix: str, size: int, members: list[int], rng: Random) -> list[dict[str, Any]]:
    now = datetime.now(UTC)
    found = []
    for n in range(size):
        kind = rng.choice(KINDS)
        event: dict[str, Any] = {
            "eventId": f"{prefix}-{n}",
            "memberId": encode_id("Member", rng.choice(members)),
            "kind": kind,
            "channel": "MINI_PROGRAM",
            "occurredAt": (now - timedelta(seconds=rng.randrange(86_400))).isoformat(),
        }
        if kind in ("VIEW_PRODUCT", "ADD_TO_CART", "FAVORITE"):
            event["sku"] = f"SKU-{rng.randrange(5000)}"
            event["category"] = rng.choice(CATEGORIES)
        elif kind == "SEARCH":
            event["query"] = rng.choice(CATEGORIES)
        found.append(event)
    return found


async def send_hub(url: str, key: str, batches: list[list[dict]], senders: int) -> float:
    queue: asyncio.Queue[list[dict]] = asyncio.Queue()
    for b in batches:
        queue.put_nowait(b)
    accepted = 0

    async def send(client: httpx.AsyncClient) -> None:
        nonlocal accepted
        while not queue.empty():
            events = queue.get_nowait()
            response = await client.post(
                "/graphql", json={"query": TRACK, "variables": {"events": events}}
            )
            answer = response.json()["data"]["trackEvents"]
            if answer["userErrors"]:
                raise RuntimeError(answer["userErrors"][:3])
            accepted += answer["accepted"]

    async with httpx.AsyncClient(
        base_url=url, headers={"Authorization": f"Bearer {key}"}, timeout=600
    ) as client:
        started = time.perf_counter()
        await asyncio.gather(*(send(client) for _ in range(senders)))
        elapsed = time.perf_counter() - started
    return accepted / elapsed


def columns(events: list[dict[str, Any]], prefix: str) -> EventColumns:
    from hub.ids import decode_int_id

    found = EventColumns()
    for e in events:
        found.member_ids.append(decode_int_id(e["memberId"], "Member"))
        found.event_ids.append(f"{prefix}{e['eventId']}")
        found.kinds.append(e["kind"])
        found.channels.append(e["channel"])
        found.occurred_at.append(datetime.fromisoformat(e["occurredAt"]))
        found.skus.append(e.get("sku"))
        found.categories.append(e.get("category"))
        found.queries.append(e.get("query"))
    return found


async def send_statement(url: str, batches: list[EventColumns], senders: int) -> float:
    engine = create_engine(url, pool_size=senders, max_overflow=0)
    sessions = create_session_factory(engine, build_event_bus())
    queue: asyncio.Queue[EventColumns] = asyncio.Queue()
    for b in batches:
        queue.put_nowait(b)
    accepted = 0

    async def work() -> None:
        nonlocal accepted
        while not queue.empty():
            cols = queue.get_nowait()
            async with sessions.begin() as session:
                result = await record_events(session, events=cols, now=datetime.now(UTC))
            accepted += result.accepted

    try:
        started = time.perf_counter()
        await asyncio.gather(*(work() for _ in range(senders)))
        elapsed = time.perf_counter() - started
    finally:
        await engine.dispose()
    return accepted / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--batches", type=int, default=80)
    parser.add_argument("--batch-size", type=int, default=500)
    parser.add_argument("--senders", type=int, default=4)
    parser.add_argument("--workers", type=int, default=2, help="hub processes")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    url = asyncio.run(fresh_database(DATABASE))
    key, members = asyncio.run(prepare(url, args.members))
    rng = Random(7)
    env = {
        "MEMBERHUB_RATE_LIMIT_OVERRIDES": json.dumps({"relay": NO_LIMIT}),
        "MEMBERHUB_PHONE_HASH_SALT": "bench-salt",
        "MEMBERHUB_TOKEN_SECRET": "bench-token-secret",
    }
    hub_rates, statement_rates = [], []
    with hub_server(url, workers=args.workers, env=env) as hub:
        asyncio.run(send_hub(hub.url, key, [batch("warm", args.batch_size, members, rng)], 1))
        for run in range(args.runs):
            batches = [
                batch(f"r{run}-{b}", args.batch_size, members, rng) for b in range(args.batches)
            ]
            hub_rates.append(asyncio.run(send_hub(hub.url, key, batches, args.senders)))
            statement_rates.append(
                asyncio.run(send_statement(url, [columns(b, "s-") for b in batches], args.senders))
            )
    print(
        f"trackEvents over HTTP, batches of {args.batch_size}, {args.senders} senders,"
        f" {args.workers} hub process(es): {statistics.median(hub_rates):,.0f} events/s"
        f" (runs: {', '.join(f'{r:,.0f}' for r in hub_rates)})"
    )
    print(
        f"the ingest statement alone: {statistics.median(statement_rates):,.0f} events/s"
        f" (runs: {', '.join(f'{r:,.0f}' for r in statement_rates)})"
    )


if __name__ == "__main__":
    main()

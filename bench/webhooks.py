"""Webhook delivery throughput: events/s from the outbox to a local receiver.

    python -m bench.webhooks [--events 5000] [--threads 8]

Writes ``--events`` committed outbox events for one admin webhook, starts a receiver on
127.0.0.1 (uvicorn, answering 204) and ``memberhub worker`` (dispatcher and dramatiq actors
on Redis) as child processes, and times until every delivery is DELIVERED (signed POSTs,
each recorded in ``webhook_deliveries``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import secrets
import subprocess
import time
from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import text

from bench.harness import PYTHON, REDIS_URL, free_port, fresh_database, server
from hub.clients import create_client
from hub.db.engine import create_engine, create_session_factory
from hub.http.principal import ClientKind
from hub.wiring import build_event_bus

DATABASE = "memberhub_bench_webhooks"
RECEIVER = """
from starlette.applications import Starlette
from starlette.responses import Response
from starlette.routing import Route
import sys, uvicorn

async def hook(request):
    await request.body()
    return Response(status_code=204)

async def healthz(request):
    return Response("ok")

app = Starlette(routes=[Route("/hook", hook, methods=["POST"]), Route("/healthz", healthz)])
uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)
"""


async def prepare(url: str, receiver: str, events: int) -> None:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    sessions = create_session_factory(engine, build_event_bus())
    now = datetime.now(UTC)
    try:
        async with sessions.begin() as session:
            client, _ = await create_client(session, name="ops", kind=ClientKind.ADMIN)
            await session.execute(
                text(
                    "INSERT INTO webhooks (client_id, url, events, secret, created_at)"
                    " VALUES (:client, :url, ARRAY['member.created'], :secret, :now)"
                ),
                {"client": client.id, "url": receiver, "secret": secrets.token_hex(32), "now": now},
            )
            await session.execute(
                text(
                    "INSERT INTO outbox_events (event_id, event_type, version, member_id,"
                    " payload, occurred_at) SELECT gen_random_uuid(), 'member.created', 1, NULL,"
                    " jsonb_build_object('n', n, 'channel', 'POS'), :now"
                    " FROM generate_series(1, :events) n"
                ),
                {"now": now, "events": events},
            )
    finally:
        await engine.dispose()


async def delivered(url: str) -> int:
    engine = create_engine(url, pool_size=1, max_overflow=0)
    try:
        async with engine.connect() as conn:
            return int(
                await conn.scalar(
                    text("SELECT count(*) FROM webhook_deliveries WHERE status = 'DELIVERED'")
                )
            )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5_000)
    parser.add_argument("--threads", type=int, default=8)
    args = parser.parse_args()
    url = asyncio.run(fresh_database(DATABASE))
    port = free_port()
    script = Path(os.environ.get("TMPDIR", "/tmp")) / "memberhub_bench_receiver.py"
    script.write_text(RECEIVER)
    with server("receiver", [PYTHON, str(script), str(port)], {}, port):
        asyncio.run(prepare(url, f"http://127.0.0.1:{port}/hook", args.events))
        env = {
            "MEMBERHUB_DATABASE_URL": url,
            "MEMBERHUB_REDIS_URL": REDIS_URL,
            "MEMBERHUB_LOG_LEVEL": "WARNING",
            "MEMBERHUB_REDIS_NAMESPACE": f"bench-{secrets.token_hex(4)}",
            # The receiver is local, which only the operator's allow-list lets webhooks reach.
            "MEMBERHUB_WEBHOOK_ALLOWED_HOSTS": '["127.0.0.1"]',
        }
        argv = [str(Path(PYTHON).with_name("memberhub")), "worker", "--threads", str(args.threads)]
        started = time.perf_counter()
        worker = subprocess.Popen(argv, env={**os.environ, **env})
        try:
            done = 0
            while done < args.events:
                time.sleep(0.5)
                done = asyncio.run(delivered(url))
                if time.perf_counter() - started > 1800:
                    raise RuntimeError(f"only {done} of {args.events} delivered in 30 min")
            elapsed = time.perf_counter() - started
        finally:
            worker.terminate()
            worker.wait(timeout=30)
    print(json.dumps({"events": args.events, "seconds": round(elapsed, 1)}))
    print(
        f"{args.events:,} events delivered in {elapsed:.1f} s: "
        f"{args.events / elapsed:,.0f} events/s (worker with {args.threads} threads, "
        "including its start-up)"
    )


if __name__ == "__main__":
    main()

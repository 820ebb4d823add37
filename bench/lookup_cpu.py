"""CPU per lookup, in process: the hub's app against the bare endpoint's, no HTTP server.

    python -m bench.lookup_cpu [--members 10000] [--requests 30000] [--runs 3]
                               [--concurrency 64] [--hub-query QUERY]
                               [--reads-from-memory]

The lookup of ``bench.lookup`` is handed straight to each app's ASGI callable by
``--concurrency`` tasks in this process, on uvloop as uvicorn runs them, against one
database. With no server and no load generator beside them, the figure is the CPU each
app spends on a request (``time.process_time``), which a busy machine disturbs far less
than it disturbs a throughput. What uvicorn adds (reading the request, writing the
answer) is the same for both apps and is not in it. Runs alternate between the apps;
medians are reported.

``--hub-query '{ __typename }'`` sends the hub a request that runs no resolver, against
the bare endpoint's whole lookup: what the hub's request costs before any of its fields.
``--reads-from-memory`` answers each of the hub's reads with what that statement's first
run returned, after yielding to the loop once, so requests still interleave as they do
while a database answers: what the hub costs when its database costs nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

import orjson
import uvloop

from bench.bare_lookup import build_app
from bench.harness import NO_LIMIT, REDIS_URL, fresh_database
from bench.lookup import DATABASE, QUERY
from bench.lookup_data import load_members, phone
from hub.db.read_pool import ReadPool
from hub.http.app import create_app
from hub.settings import RateLimit, Settings

App = Callable[[MutableMapping[str, Any], Any, Any], Awaitable[None]]


async def post(app: App, body: bytes, headers: list[tuple[bytes, bytes]]) -> int:
    """POST ``body`` to ``/graphql`` of ``app``; the answer's status.

    Not httpx's ASGI transport: its client side would run in this process too and count
    in the CPU measured, and it does not start the app's lifespan."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/graphql",
        "raw_path": b"/graphql",
        "query_string": b"",
        "root_path": "",
        "headers": headers,
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    delivered = False
    status = 0

    async def receive() -> dict[str, Any]:
        nonlocal delivered
        if delivered:  # only a disconnect is left to hear, and it never comes
            await asyncio.Event().wait()
        delivered = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]

    await app(scope, receive, send)
    return status


class Running:
    """An app with its lifespan started, as a server starts it."""

    def __init__(self, app: App) -> None:
        self.app = app
        self._events: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._answers: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> App:
        scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}
        self._task = asyncio.create_task(self.app(scope, self._events.get, self._answers.put))
        await self._events.put({"type": "lifespan.startup"})
        answer = await self._answers.get()
        assert answer["type"] == "lifespan.startup.complete", answer
        return self.app

    async def __aexit__(self, *exc: object) -> None:
        await self._events.put({"type": "lifespan.shutdown"})
        await self._answers.get()
        assert self._task is not None
        await self._task


async def cpu_per_request(
    app: App, key: str, members: int, requests: int, concurrency: int, query: str = QUERY
) -> tuple[float, float]:
    """CPU µs per request and requests/s of ``requests`` lookups of random members."""
    headers = [
        (b"host", b"bench"),
        (b"content-type", b"application/json"),
        (b"authorization", f"Bearer {key}".encode()),
    ]
    each = requests // concurrency
    bodies = [
        orjson.dumps({"query": query, "variables": {"phone": phone(random.randrange(members))}})
        for _ in range(each * concurrency)
    ]

    async def client(start: int) -> None:
        for body in bodies[start : start + each]:
            status = await post(app, body, headers)
            if status != 200:
                raise RuntimeError(f"the lookup answered {status}")

    cpu, wall = time.process_time(), time.perf_counter()
    await asyncio.gather(*(client(n * each) for n in range(concurrency)))
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    return cpu / len(bodies) * 1e6, len(bodies) / wall


def read_from_memory() -> None:
    """Every ``ReadPool`` answers a statement with its first answer, after one yield."""
    read = ReadPool.execute
    answers: dict[str, Any] = {}

    async def execute(self: ReadPool, statement: Any, parameters: Any) -> Any:
        answer = answers.get(statement.text)
        if answer is None:
            answer = answers[statement.text] = await read(self, statement, parameters)
        await asyncio.sleep(0)
        return answer

    ReadPool.execute = execute  # type: ignore[method-assign]


async def measure(args: argparse.Namespace) -> None:
    if args.reads_from_memory:
        read_from_memory()
    url = await fresh_database(DATABASE)
    key = await load_members(url, args.members)
    settings = Settings(
        database_url=url,
        redis_url=REDIS_URL,
        log_level="WARNING",
        rate_limit_overrides={"bench": RateLimit(**NO_LIMIT)},
    )
    figures: dict[str, list[tuple[float, float]]] = {"hub": [], "bare": []}
    async with Running(create_app(settings)) as hub, Running(build_app(url)) as bare:
        apps = {"hub": hub, "bare": bare}
        queries = {"hub": args.hub_query, "bare": QUERY}
        for name, app in apps.items():  # warm-up: caches, pools, prepared statements
            await cpu_per_request(app, key, args.members, 2_000, args.concurrency, queries[name])
        for _ in range(args.runs):
            for name, app in apps.items():
                figures[name].append(
                    await cpu_per_request(
                        app, key, args.members, args.requests, args.concurrency, queries[name]
                    )
                )
    print(
        f"members {args.members}, {args.concurrency} concurrent, {args.runs} runs of"
        f" {args.requests} requests each, medians"
    )
    for name, runs in figures.items():
        cpu = statistics.median(r[0] for r in runs)
        rate = statistics.median(r[1] for r in runs)
        listed = ", ".join(f"{r[0]:.0f}" for r in runs)
        print(f"{name:5s} CPU {cpu:6.0f} µs a request (runs: {listed}), {rate:6.0f} req/s")
    hub_cpu = statistics.median(r[0] for r in figures["hub"])
    bare_cpu = statistics.median(r[0] for r in figures["bare"])
    print(f"CPU ratio bare/hub: {bare_cpu / hub_cpu:.0%}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=10_000)
    parser.add_argument("--requests", type=int, default=30_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=64)
    parser.add_argument("--hub-query", default=QUERY, help="what the hub is sent")
    parser.add_argument("--reads-from-memory", action="store_true", help=read_from_memory.__doc__)
    uvloop.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()

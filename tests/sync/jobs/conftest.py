"""A real dramatiq worker on the test Redis, a real webhook receiver on 127.0.0.1, and
helpers to publish events and run the dispatcher against the test clock."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest
from dramatiq.brokers.redis import RedisBroker
from starlette.applications import Starlette
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from bus.hooks import DomainEvent
from hub.clock import SettableClock
from hub.db.engine import create_engine, create_session_factory
from hub.settings import Settings
from hub.wiring import build_event_bus
from sync.jobs.actors import JOBS_QUEUE, WEBHOOKS_QUEUE, Actors, declare_actors
from sync.jobs.broker import create_broker, dead_letter_store
from sync.jobs.dead_letters import DeadLetterStore
from sync.jobs.dispatch import DispatchReport, dispatch_outbox
from sync.jobs.runtime import JobRuntime
from sync.jobs.schedule import JobRegistry
from sync.jobs.worker import start_worker, stop_worker
from sync.model import DeliveryPolicy
from sync.outbox import append_event
from sync.webhooks.egress import EgressPolicy
from tests.live_server import serve_in_thread


@dataclass(frozen=True)
class Received:
    path: str
    headers: Headers
    body: bytes


@dataclass
class Receiver:
    """Answers each path with the statuses it was told to, in order, then 200."""

    base_url: str
    requests: list[Received] = field(default_factory=list)
    scripts: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"{self.base_url}/{path}"

    def respond(self, path: str, *statuses: int) -> None:
        with self.lock:
            self.scripts[path] = list(statuses)

    def at(self, path: str) -> list[Received]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    def reset(self) -> None:
        with self.lock:
            self.requests.clear()
            self.scripts.clear()

    async def handle(self, request: Request) -> Response:
        path = request.path_params["path"]
        body = await request.body()
        with self.lock:
            self.requests.append(Received(path=path, headers=request.headers, body=body))
            script = self.scripts.get(path)
            status = script.pop(0) if script else 200
        return Response(status_code=status)


@pytest.fixture(scope="session")
def _receiver_server() -> Iterator[Receiver]:
    receiver = Receiver(base_url="")

    def make_app() -> Starlette:
        return Starlette(routes=[Route("/{path:path}", receiver.handle, methods=["POST"])])

    with serve_in_thread(make_app) as base_url:
        receiver.base_url = base_url
        yield receiver


@pytest.fixture
def receiver(_receiver_server: Receiver) -> Iterator[Receiver]:
    _receiver_server.reset()
    yield _receiver_server
    _receiver_server.reset()


@dataclass
class Jobs:
    """The background side as a worker process has it, driven step by step by a test."""

    broker: RedisBroker
    actors: Actors
    runtime: JobRuntime
    registry: JobRegistry
    dead_letters: DeadLetterStore
    session_factory: Any
    policy: DeliveryPolicy
    clock: SettableClock
    sent: list[tuple[int, int]] = field(default_factory=list)

    def send(self, delivery_id: int, attempt: int) -> None:
        """The dispatcher's send, counted: every message it hands to dramatiq."""
        self.sent.append((delivery_id, attempt))
        self.actors.deliver_webhook.send(delivery_id, attempt)

    async def dispatch(self) -> DispatchReport:
        return await dispatch_outbox(
            session_factory=self.session_factory,
            send=self.send,
            now=self.clock.now(),
            policy=self.policy,
        )

    async def drain(self) -> None:
        """Wait until the worker has processed every message sent so far."""

        def join() -> None:
            # Jobs first: a job (the scheduled dispatch pass) enqueues deliveries.
            for queue in (JOBS_QUEUE, WEBHOOKS_QUEUE):
                self.broker.join(queue, interval=20, timeout=30_000)

        await asyncio.to_thread(join)

    async def dispatch_and_drain(self) -> DispatchReport:
        report = await self.dispatch()
        await self.drain()
        return report

    async def publish(self, *events: DomainEvent) -> None:
        async with self.session_factory() as session, session.begin():
            for event in events:
                await append_event(session, event)


@pytest.fixture
async def jobs(
    database_url: str,
    redis_url: str,
    redis_namespace: str,
    session_factory: Any,
    clock: SettableClock,
    clean_redis: None,
    webhook_allowed_hosts: list[str],
    settings: Settings,
) -> AsyncIterator[Jobs]:
    broker = create_broker(redis_url, namespace=redis_namespace)
    bus = build_event_bus(settings, clock)
    runtime = JobRuntime(
        engine_factory=lambda: create_engine(database_url, pool_size=4, max_overflow=2),
        now=clock.now,
        sessions_for=lambda engine: create_session_factory(engine, bus),
        egress=EgressPolicy.from_entries(webhook_allowed_hosts),
    )
    registry = JobRegistry()
    actors = declare_actors(broker, runtime, registry=registry, job_max_retries=0)
    worker = start_worker(broker, threads=2, worker_timeout=50)
    yield Jobs(
        broker=broker,
        actors=actors,
        runtime=runtime,
        registry=registry,
        dead_letters=dead_letter_store(broker, namespace=redis_namespace),
        session_factory=session_factory,
        policy=runtime.policy,
        clock=clock,
    )
    await asyncio.to_thread(stop_worker, worker, broker)

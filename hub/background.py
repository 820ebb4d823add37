"""Background work of a hub process, built from the settings: the broker, the actors, the
scheduler and the outbox dispatcher (``memberhub worker``, or inside ``serve``)."""

from __future__ import annotations

from redis import Redis

from hub.clock import Clock, SystemClock
from hub.db.engine import create_engine, create_session_factory
from hub.settings import Settings
from hub.wiring import build_event_bus
from sync.jobs.actors import declare_actors
from sync.jobs.broker import create_broker
from sync.jobs.runtime import JobRuntime
from sync.jobs.worker import BackgroundWork, background_work


def build_background(
    settings: Settings, *, threads: int | None = None, clock: Clock | None = None
) -> BackgroundWork:
    """Declare the actors on a new broker and assemble workers, scheduler and dispatcher;
    the caller starts and stops the answer."""
    assert settings.database_url is not None and settings.redis_url is not None
    database_url = settings.database_url
    threads = threads or settings.worker_threads
    broker = create_broker(settings.redis_url, namespace=settings.redis_namespace)
    bus = build_event_bus(settings, clock)
    runtime = JobRuntime(
        # One connection per worker thread, plus the dispatcher's and some slack.
        engine_factory=lambda: create_engine(database_url, pool_size=threads + 2, max_overflow=4),
        now=(clock or SystemClock()).now,
        sessions_for=lambda engine: create_session_factory(engine, bus),
        egress=settings.webhook_egress,
    )
    actors = declare_actors(broker, runtime)
    return background_work(
        broker,
        actors,
        runtime,
        redis=Redis.from_url(settings.redis_url),
        key_prefix=settings.redis_namespace,
        threads=threads,
    )

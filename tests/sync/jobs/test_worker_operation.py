"""Operating the worker: failed messages are kept and resent; stopping finishes work."""

from __future__ import annotations

import asyncio
import threading
from datetime import timedelta

from click.testing import CliRunner

from bus.hooks import EventHooks
from hub.cli.memberhub import main
from hub.db.engine import create_engine, create_session_factory
from sync.jobs.actors import declare_actors
from sync.jobs.broker import create_broker
from sync.jobs.runtime import JobRuntime
from sync.jobs.schedule import JobRegistry
from sync.jobs.worker import start_worker, stop_worker
from tests.conftest import START


async def test_a_job_failing_for_good_is_listed_and_resent_by_the_cli(
    jobs, redis_url, redis_namespace
):
    runs: list[str] = []

    async def flaky(*, session, now):  # type: ignore[no-untyped-def]
        runs.append("ran")
        if len(runs) == 1:
            raise RuntimeError("the warehouse API is down")

    jobs.registry.register("test.flaky", every=timedelta(hours=1), run=flaky)
    jobs.actors.run_scheduled_job.send("test.flaky", START.isoformat())
    await jobs.drain()
    env = {"MEMBERHUB_REDIS_URL": redis_url, "MEMBERHUB_REDIS_NAMESPACE": redis_namespace}

    listed = await asyncio.to_thread(CliRunner().invoke, main, ["jobs", "failed"], env=env)
    (letter,) = jobs.dead_letters.list()
    resent = await asyncio.to_thread(
        CliRunner().invoke, main, ["jobs", "retry", letter.message_id], env=env
    )
    await jobs.drain()
    unknown = await asyncio.to_thread(CliRunner().invoke, main, ["jobs", "retry", "nope"], env=env)

    assert listed.exit_code == 0, listed.output
    assert letter.message_id in listed.output
    assert "RuntimeError: the warehouse API is down" in listed.output
    assert resent.exit_code == 0 and f"resent {letter.message_id}" in resent.output
    assert runs == ["ran", "ran"]
    assert jobs.dead_letters.list() == []
    assert unknown.exit_code != 0


async def test_stopping_the_worker_finishes_the_message_in_flight(
    database_url, redis_url, redis_namespace, clock, clean_redis
):
    broker = create_broker(redis_url, namespace=f"{redis_namespace}-stop")
    runtime = JobRuntime(
        engine_factory=lambda: create_engine(database_url, pool_size=1, max_overflow=0),
        now=clock.now,
        sessions_for=lambda engine: create_session_factory(engine, EventHooks()),
    )
    registry = JobRegistry()
    actors = declare_actors(broker, runtime, registry=registry, job_max_retries=0)
    started, finished = threading.Event(), threading.Event()

    async def slow(*, session, now):  # type: ignore[no-untyped-def]
        started.set()
        await asyncio.sleep(1.0)
        finished.set()

    registry.register("test.slow", every=timedelta(hours=1), run=slow)
    worker = start_worker(broker, threads=1, worker_timeout=50)
    actors.run_scheduled_job.send("test.slow", START.isoformat())
    assert await asyncio.to_thread(started.wait, 10)

    await asyncio.to_thread(stop_worker, worker, broker)

    # Stopping waited for the job rather than cutting it off half-way.
    assert finished.is_set()

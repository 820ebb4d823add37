"""The hub's dramatiq actors, declared on an explicitly created broker.

``declare_actors`` is called once per broker (by the worker and ``serve``, or a test): the
actors are thin async wrappers around the services, running on dramatiq's event loop with
that loop's own engine from the ``JobRuntime``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import dramatiq
import structlog
from dramatiq import Actor, Broker, Middleware
from dramatiq.asyncio import get_event_loop_thread
from dramatiq.middleware import AsyncIO

from sync.jobs.dispatch import dispatch_outbox
from sync.jobs.runtime import JobRuntime
from sync.jobs.schedule import JobRegistry, Schedule, jobs, run_job
from sync.webhooks.delivery import deliver

log = structlog.get_logger("memberhub.outbox")

WEBHOOKS_QUEUE = "webhooks"
JOBS_QUEUE = "jobs"
#: The scheduled outbox pass; worker processes also run the dispatcher loop, so this
#: matters where none does.
DISPATCH_EVERY = timedelta(seconds=5)


@dataclass(frozen=True)
class Actors:
    deliver_webhook: Actor[Any, Any]
    dispatch_outbox: Actor[Any, Any]
    run_scheduled_job: Actor[Any, Any]
    registry: JobRegistry

    def schedules(self) -> list[Schedule]:
        """What the scheduler fires: every registered job, and the outbox pass."""
        return [
            Schedule(
                name="outbox.dispatch",
                every=DISPATCH_EVERY,
                fire=lambda now: self.dispatch_outbox.send(now.isoformat()),
            ),
            *(
                Schedule(
                    name=job.name,
                    every=job.every,
                    offset=job.offset,
                    fire=lambda now, name=job.name: self.run_scheduled_job.send(
                        name, now.isoformat()
                    ),
                )
                for job in self.registry
            ),
        ]


class ClosesRuntimeLoop(Middleware):
    """Closes the runtime's engine on dramatiq's event loop before that loop stops."""

    def __init__(self, runtime: JobRuntime) -> None:
        self.runtime = runtime

    def after_worker_shutdown(self, broker: Broker, worker: object) -> None:
        loop_thread = get_event_loop_thread()
        if loop_thread is not None:
            loop_thread.run_coroutine(self.runtime.close_loop())


def declare_actors(
    broker: Broker,
    runtime: JobRuntime,
    *,
    registry: JobRegistry = jobs,
    job_max_retries: int = 3,
    delivery_max_retries: int = 5,
) -> Actors:
    """Declare the actors on ``broker`` (once per broker). Messages that fail more than
    the max retries (an unexpected error: a receiver's refusal is not one) end in the
    dead-letter list."""

    async def deliver_webhook(delivery_id: int, attempt: int) -> None:
        await deliver(
            session_factory=runtime.session_factory(),
            http=runtime.http(),
            delivery_id=delivery_id,
            attempt=attempt,
            now=runtime.now,
            policy=runtime.policy,
            egress=runtime.egress,
        )

    deliver_actor: Actor[Any, Any] = dramatiq.actor(
        deliver_webhook,
        broker=broker,
        actor_name="deliver_webhook",
        queue_name=WEBHOOKS_QUEUE,
        max_retries=delivery_max_retries,
        min_backoff=1_000,
    )

    async def dispatch(scheduled_for: str) -> None:
        try:
            await dispatch_outbox(
                session_factory=runtime.session_factory(),
                send=deliver_actor.send,
                now=runtime.now(),
                policy=runtime.policy,
            )
        except Exception:
            # Not worth a retry or a dead letter: the next pass finds the same work.
            log.exception("scheduled outbox dispatch failed")

    async def run_scheduled_job(name: str, scheduled_for: str) -> None:
        await run_job(
            registry.get(name),
            session_factory=runtime.session_factory(),
            now=datetime.fromisoformat(scheduled_for),
        )

    actors = Actors(
        deliver_webhook=deliver_actor,
        dispatch_outbox=dramatiq.actor(
            dispatch,
            broker=broker,
            actor_name="dispatch_outbox",
            queue_name=JOBS_QUEUE,
            max_retries=0,
        ),
        run_scheduled_job=dramatiq.actor(
            run_scheduled_job,
            broker=broker,
            actor_name="run_scheduled_job",
            queue_name=JOBS_QUEUE,
            max_retries=job_max_retries,
            min_backoff=5_000,
        ),
        registry=registry,
    )
    broker.add_middleware(ClosesRuntimeLoop(runtime), before=AsyncIO)
    return actors

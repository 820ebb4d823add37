"""Scheduled jobs: a registry each area adds its periodic work to, and the scheduler that
fires every job once per period however many worker processes run it.

Register at start (``hub/wiring.py``)::

    register_job("ledger.settle", every=timedelta(hours=1), run=settle_pending)

where ``run`` is ``async def settle_pending(*, session: AsyncSession, now: datetime)``: it
runs as a dramatiq message in one transaction the worker commits, with ``now`` the moment
the scheduler fired. Jobs must be idempotent: a retried message runs it again.

Periods are cut from the Unix epoch (UTC) shifted by ``offset``: ``every=timedelta(days=1),
offset=timedelta(hours=16)`` fires at 16:00 UTC, midnight in Shanghai. Each (job, period)
is claimed with ``SET NX`` on a Redis key naming the period, so of several schedulers
ticking at once exactly one enqueues it. A period during which no scheduler ran is skipped,
not caught up: the next period's run does its work.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import structlog
from redis import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from sync.outbox import outbox_written_at_end

log = structlog.get_logger("memberhub.schedule")

#: ``async def job(*, session: AsyncSession, now: datetime) -> None``
JobFunction = Callable[..., Awaitable[object]]

#: The scheduler ticks once a second, so no period may be shorter.
SHORTEST_PERIOD = timedelta(seconds=1)


class UnknownJob(LookupError):
    pass


@dataclass(frozen=True)
class ScheduledJob:
    name: str
    every: timedelta
    run: JobFunction
    offset: timedelta = timedelta(0)


class JobRegistry:
    """Jobs by name. Registering the same job again is a no-op (wiring runs more than once);
    another function under a taken name is an error."""

    def __init__(self) -> None:
        self._jobs: dict[str, ScheduledJob] = {}

    def register(
        self,
        name: str,
        *,
        every: timedelta,
        run: JobFunction,
        offset: timedelta = timedelta(0),
    ) -> ScheduledJob:
        if every < SHORTEST_PERIOD:
            raise ValueError(f"job {name!r}: a period is at least {SHORTEST_PERIOD}")
        if not timedelta(0) <= offset < every:
            raise ValueError(f"job {name!r}: the offset must lie within one period")
        job = ScheduledJob(name=name, every=every, run=run, offset=offset)
        existing = self._jobs.get(name)
        if existing is not None and existing != job:
            raise ValueError(f"another job is registered as {name!r}")
        self._jobs[name] = job
        return job

    def get(self, name: str) -> ScheduledJob:
        try:
            return self._jobs[name]
        except KeyError:
            raise UnknownJob(f"no scheduled job is registered as {name!r}") from None

    def __iter__(self) -> Iterator[ScheduledJob]:
        return iter(list(self._jobs.values()))

    def __len__(self) -> int:
        return len(self._jobs)


#: The process-wide registry; ``hub/wiring.py`` fills it at start.
jobs = JobRegistry()


def register_job(
    name: str, *, every: timedelta, run: JobFunction, offset: timedelta = timedelta(0)
) -> ScheduledJob:
    return jobs.register(name, every=every, run=run, offset=offset)


@dataclass(frozen=True)
class Schedule:
    """Something the scheduler fires once per period: ``fire(now)`` enqueues its message."""

    name: str
    every: timedelta
    fire: Callable[[datetime], object]
    offset: timedelta = timedelta(0)


def period_index(moment: datetime, every: timedelta, offset: timedelta = timedelta(0)) -> int:
    return math.floor((moment.timestamp() - offset.total_seconds()) / every.total_seconds())


def claim_period(
    redis: Redis,
    key_prefix: str,
    name: str,
    every: timedelta,
    offset: timedelta,
    now: datetime,
) -> str | None:
    """Claim the period of ``now`` for the schedule ``name``: answer its Redis key when this
    caller is the first, None when a scheduler (or a manual run) already claimed it."""
    key = f"{key_prefix}:schedule:{name}:{period_index(now, every, offset)}"
    # Kept past its period, so a late tick in the same period still finds it.
    expiry = max(math.ceil(every.total_seconds() * 2), 60)
    return key if redis.set(key, now.isoformat(), nx=True, ex=expiry) else None


async def run_job(
    job: ScheduledJob, *, session_factory: Callable[[], AsyncSession], now: datetime
) -> None:
    """Run ``job`` once in its own transaction, committed when it returns; the events it
    publishes reach the outbox in one INSERT at the end, however many there are."""
    async with session_factory() as session, session.begin(), outbox_written_at_end(session):
        await job.run(session=session, now=now)


async def run_due_jobs(
    registry: JobRegistry,
    *,
    redis: Redis,
    key_prefix: str,
    session_factory: Callable[[], AsyncSession],
    now: datetime,
) -> list[str]:
    """Run every job whose current period no scheduler has fired yet, here and now, as the
    scheduler would have had it run; answer their names. A job that fails frees its period
    for the scheduler and the error propagates."""
    ran = []
    for job in registry:
        key = claim_period(redis, key_prefix, job.name, job.every, job.offset, now)
        if key is None:
            continue
        try:
            await run_job(job, session_factory=session_factory, now=now)
        except BaseException:
            redis.delete(key)
            raise
        ran.append(job.name)
    return ran


class Scheduler:
    def __init__(self, redis: Redis, *, key_prefix: str, schedules: Sequence[Schedule]) -> None:
        self._redis = redis
        self._key_prefix = key_prefix
        self._schedules = tuple(schedules)

    def tick(self, now: datetime) -> list[str]:
        """Fire every schedule whose current period no scheduler has fired yet; answer the
        names fired by this call."""
        fired = []
        for schedule in self._schedules:
            key = claim_period(
                self._redis, self._key_prefix, schedule.name, schedule.every, schedule.offset, now
            )
            if key is None:
                continue
            try:
                schedule.fire(now)
            except Exception:
                # Not enqueued: free the period, so the next tick (here or elsewhere) fires it.
                self._redis.delete(key)
                raise
            fired.append(schedule.name)
        return fired

    def run(
        self,
        stopping: threading.Event,
        *,
        now: Callable[[], datetime],
        interval: float = 1.0,
    ) -> None:
        """Tick every ``interval`` seconds until ``stopping`` is set."""
        log.info("scheduler started", schedules=[s.name for s in self._schedules])
        while True:
            try:
                self.tick(now())
            except Exception:
                log.exception("scheduler tick failed")
            if stopping.wait(interval):
                return

"""The scheduler: each registered job once per period, however many schedulers tick."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

import pytest
from redis import Redis
from sqlalchemy import text

from sync.jobs.schedule import JobRegistry, Schedule, Scheduler, UnknownJob, period_index

MIDNIGHT = datetime(2026, 11, 21, 0, 0, tzinfo=UTC)


def recording_schedules(fired: list[tuple[str, datetime]]) -> list[Schedule]:
    lock = threading.Lock()

    def recorder(name: str):  # type: ignore[no-untyped-def]
        def fire(now: datetime) -> None:
            with lock:
                fired.append((name, now))

        return fire

    return [
        Schedule(name="every-minute", every=timedelta(minutes=1), fire=recorder("every-minute")),
        Schedule(name="hourly", every=timedelta(hours=1), fire=recorder("hourly")),
        Schedule(
            name="shanghai-midnight",
            every=timedelta(days=1),
            offset=timedelta(hours=16),
            fire=recorder("shanghai-midnight"),
        ),
    ]


@pytest.fixture
def sync_redis(redis_url: str, clean_redis: None):  # type: ignore[no-untyped-def]
    client = Redis.from_url(redis_url)
    yield client
    client.close()


def test_two_schedulers_ticking_at_the_same_moments_fire_each_period_once(
    sync_redis, redis_namespace
):
    fired: list[tuple[str, datetime]] = []
    schedules = recording_schedules(fired)
    first = Scheduler(sync_redis, key_prefix=redis_namespace, schedules=schedules)
    second = Scheduler(sync_redis, key_prefix=redis_namespace, schedules=schedules)
    # Two and a half hours of ticks every 20 s, across Shanghai's midnight (16:00 UTC).
    start = MIDNIGHT + timedelta(hours=15)
    moments = [start + timedelta(seconds=20 * i) for i in range(450)]

    for moment in moments:
        first.tick(moment)
        second.tick(moment)

    counts = Counter(name for name, _ in fired)
    # The daily job: once for the period under way at the first tick, once at midnight.
    assert counts == {"every-minute": 150, "hourly": 3, "shanghai-midnight": 2}
    by_name = {s.name: s for s in schedules}
    periods = Counter(
        (name, period_index(now, by_name[name].every, by_name[name].offset)) for name, now in fired
    )
    assert set(periods.values()) == {1}
    daily = [now for name, now in fired if name == "shanghai-midnight"]
    assert daily == [start, MIDNIGHT + timedelta(hours=16)]


def test_schedulers_ticking_concurrently_fire_each_period_once(sync_redis, redis_namespace):
    fired: list[tuple[str, datetime]] = []
    schedules = recording_schedules(fired)
    schedulers = [
        Scheduler(sync_redis, key_prefix=redis_namespace, schedules=schedules) for _ in range(4)
    ]
    moments = [MIDNIGHT + timedelta(seconds=15 * i) for i in range(40)]

    with ThreadPoolExecutor(max_workers=4) as pool:
        for moment in moments:
            list(pool.map(lambda s, m=moment: s.tick(m), schedulers))

    counts = Counter(name for name, _ in fired)
    assert counts == {"every-minute": 10, "hourly": 1, "shanghai-midnight": 1}


def test_a_period_whose_enqueue_failed_fires_on_the_next_tick(sync_redis, redis_namespace):
    calls: list[datetime] = []

    def fire(now: datetime) -> None:
        calls.append(now)
        if len(calls) == 1:
            raise ConnectionError("broker away")

    scheduler = Scheduler(
        sync_redis,
        key_prefix=redis_namespace,
        schedules=[Schedule(name="hourly", every=timedelta(hours=1), fire=fire)],
    )

    with pytest.raises(ConnectionError):
        scheduler.tick(MIDNIGHT)
    retried = scheduler.tick(MIDNIGHT + timedelta(seconds=1))
    again = scheduler.tick(MIDNIGHT + timedelta(seconds=2))

    assert retried == ["hourly"] and again == []
    assert len(calls) == 2


def test_the_registry_takes_each_name_once():
    registry = JobRegistry()

    async def settle(*, session, now):  # type: ignore[no-untyped-def]
        return None

    async def other(*, session, now):  # type: ignore[no-untyped-def]
        return None

    registry.register("ledger.settle", every=timedelta(hours=1), run=settle)
    registry.register("ledger.settle", every=timedelta(hours=1), run=settle)

    assert [job.name for job in registry] == ["ledger.settle"]
    with pytest.raises(ValueError, match="another job"):
        registry.register("ledger.settle", every=timedelta(hours=1), run=other)
    with pytest.raises(ValueError, match="at least"):
        registry.register("too.often", every=timedelta(milliseconds=10), run=other)
    with pytest.raises(ValueError, match="offset"):
        registry.register("late", every=timedelta(hours=1), offset=timedelta(hours=2), run=other)
    with pytest.raises(UnknownJob):
        registry.get("nobody")


async def test_a_registered_job_runs_on_the_worker_once_per_period(
    jobs, sync_redis, redis_namespace
):
    runs: list[tuple[datetime, int]] = []

    async def count_members(*, session, now):  # type: ignore[no-untyped-def]
        runs.append((now, await session.scalar(text("SELECT count(*) FROM outbox_events"))))

    jobs.registry.register("test.count", every=timedelta(hours=1), run=count_members)
    schedules = [s for s in jobs.actors.schedules() if s.name == "test.count"]
    workers = [
        Scheduler(sync_redis, key_prefix=redis_namespace, schedules=schedules) for _ in range(2)
    ]

    for moment in (MIDNIGHT, MIDNIGHT + timedelta(minutes=30), MIDNIGHT + timedelta(hours=1)):
        for scheduler in workers:
            scheduler.tick(moment)
    await jobs.drain()

    assert sorted(runs) == [(MIDNIGHT, 0), (MIDNIGHT + timedelta(hours=1), 0)]

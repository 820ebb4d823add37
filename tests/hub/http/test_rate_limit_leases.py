"""Leased tokens: fewer Redis round trips at high rates, never more requests than the bucket."""

from __future__ import annotations

import asyncio
import threading
import time

from redis.asyncio import Redis

from hub.http.rate_limit import RateLimiter, lease_size


async def _evalsha_calls(redis: Redis) -> int:
    stats = await redis.info("commandstats")
    return int(stats.get("cmdstat_evalsha", {}).get("calls", 0))


async def test_two_processes_leasing_from_one_bucket_stay_within_it(
    redis: Redis, redis_namespace: str, clean_redis: None
):
    rate, burst = 100.0, 20
    assert lease_size(rate, burst) == 10
    # Two limiters are two hub processes sharing the bucket in Redis.
    hubs = [RateLimiter(redis, namespace=redis_namespace) for _ in range(2)]
    await hubs[0].take("client:warm-up-script", rate=1, burst=1)
    calls_before = await _evalsha_calls(redis)

    started = time.monotonic()
    outcomes = []
    for i in range(300):
        outcomes.append(await hubs[i % 2].take("client:busy", rate=rate, burst=burst))
    elapsed = time.monotonic() - started
    calls = await _evalsha_calls(redis) - calls_before

    allowed = sum(o.allowed for o in outcomes)
    assert allowed <= burst + rate * elapsed + 1
    assert allowed >= burst - 2 * lease_size(rate, burst)
    assert all(o.retry_after_seconds >= 1 for o in outcomes if not o.allowed)
    assert calls < len(outcomes) / 2


async def test_a_slow_bucket_is_exact(redis: Redis, redis_namespace: str, clean_redis: None):
    limiter = RateLimiter(redis, namespace=redis_namespace)
    assert lease_size(0.5, 3) == 1

    outcomes = await asyncio.gather(
        *(limiter.take("client:slow", rate=0.5, burst=3) for _ in range(6))
    )

    assert [o.allowed for o in outcomes].count(True) == 3


async def test_concurrent_requests_share_one_lease(
    redis: Redis, redis_namespace: str, clean_redis: None
):
    # 64 requests at once against a bucket of 40 leased 10 at a time: a lease per request
    # would drain the bucket for a handful of them; shared leases let the whole bucket in.
    limiter = RateLimiter(redis, namespace=redis_namespace)
    rate, burst = 100.0, 40
    assert lease_size(rate, burst) == 10

    started = time.monotonic()
    outcomes = await asyncio.gather(
        *(limiter.take("client:crowd", rate=rate, burst=burst) for _ in range(64))
    )
    elapsed = time.monotonic() - started

    allowed = [o.allowed for o in outcomes].count(True)
    assert burst <= allowed <= burst + rate * elapsed + 1


def test_requests_arriving_as_a_lease_lands_never_spin(redis_url: str, redis_namespace: str):
    # A request that arrives after a lease is answered but before the lease is forgotten
    # must ask for a new one, not wait on the answered one: awaiting a finished future does
    # not yield, and such a request spun forever and blocked the event loop (a member's
    # concurrent requests hung the hub). Run in a thread: a blocked loop cannot time out.
    rate, burst = 10.0, 40
    assert lease_size(rate, burst) == 1

    async def crowd() -> tuple[list[bool], float]:
        redis = Redis.from_url(redis_url)
        limiter = RateLimiter(redis, namespace=f"{redis_namespace}-spin")
        started = time.monotonic()
        # New requests on every turn of the loop, so that some arrive just as a lease lands.
        arrivals = []
        try:
            for _ in range(700):
                arrivals.extend(
                    asyncio.ensure_future(limiter.take("member:1", rate=rate, burst=burst))
                    for _ in range(3)
                )
                await asyncio.sleep(0)
            allowed = [a.allowed for a in await asyncio.gather(*arrivals)]
            return allowed, time.monotonic() - started
        finally:
            await redis.aclose()

    answers: list[tuple[list[bool], float]] = []
    runner = threading.Thread(target=lambda: answers.append(asyncio.run(crowd())), daemon=True)
    runner.start()
    # Generous: a spinning loop never ends, while a loaded machine may be slow to finish.
    runner.join(timeout=60)

    assert not runner.is_alive(), "the limiter's loop is stuck"
    allowed, elapsed = answers[0]
    assert len(allowed) == 2100
    assert burst <= allowed.count(True) <= burst + rate * elapsed + 1

"""Per-client rate limits: a token bucket in Redis, shared by every hub process.

The bucket refills at ``rate`` tokens a second up to ``burst``; each request takes one.
The script reads Redis's own clock, so hubs with skewed clocks share one bucket fairly.

At high rates a process takes a small lease of tokens in one round trip (at most a tenth
of a second's worth) and spends it locally; an unspent lease lapses after a second. The
bucket in Redis stays the only source of tokens, so a lease can refuse a client slightly
early but never lets more through than the limit. Slow buckets lease one token: exact.
A refusal is remembered until the token it waits for is due, so a client hammering past
its limit costs no Redis round trips either.
"""

from __future__ import annotations

import asyncio
import logging
import math
import time
from dataclasses import dataclass
from functools import partial

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

#: A lease covers at most this long at the bucket's rate, and lapses after ``LEASE_SECONDS``.
LEASE_SHARE_SECONDS = 0.1
LEASE_SECONDS = 1.0
MAX_LEASE = 50
#: Beyond this many subjects remembered, the local state is dropped (memory bound).
MAX_LEASED_SUBJECTS = 10_000


def lease_size(rate: float, burst: int) -> int:
    return max(1, min(MAX_LEASE, int(rate * LEASE_SHARE_SECONDS), burst))


_TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local retry_ms = 0
local allowed = 0
if tokens >= 1 then
  allowed = math.min(want, math.floor(tokens))
  tokens = tokens - allowed
else
  retry_ms = math.ceil((1 - tokens) * 1000 / rate)
end
redis.call('HSET', KEYS[1], 'tokens', tostring(tokens), 'ts', now)
redis.call('PEXPIRE', KEYS[1], math.ceil(burst * 1000 / rate) + 1000)
return {allowed, retry_ms}
"""


@dataclass(frozen=True)
class Allowance:
    allowed: bool
    retry_after_seconds: int = 0


class RateLimiter:
    def __init__(self, redis: Redis, *, namespace: str) -> None:
        self._redis = redis
        self._namespace = namespace
        self._script = redis.register_script(_TOKEN_BUCKET)
        #: subject -> (tokens left in this process's lease, monotonic time it lapses)
        self._leases: dict[str, tuple[int, float]] = {}
        #: subject -> monotonic time before which its bucket cannot hold a token
        self._refused_until: dict[str, float] = {}
        #: subject -> the lease being asked of Redis; True when Redis did not answer
        self._leasing: dict[str, asyncio.Future[bool]] = {}

    async def take(self, subject: str, *, rate: float, burst: int) -> Allowance:
        """Take one token from ``subject``'s bucket. Fails open if Redis cannot answer:
        an outage of the limiter must not become an outage of the API."""
        while True:
            now = time.monotonic()
            refused_until = self._refused_until.get(subject, 0.0)
            if now < refused_until:
                return Allowance(False, retry_after_seconds=_whole_seconds(refused_until - now))
            left, lapses = self._leases.get(subject, (0, 0.0))
            if left > 0 and now < lapses:
                self._leases[subject] = (left - 1, lapses)
                return Allowance(True)
            # One lease in flight per subject: concurrent requests wait for it and share it,
            # rather than each draining a lease from the bucket for one token. A lease already
            # answered (its tokens taken by others) is not waited on: awaiting a finished
            # future does not yield, so this loop would spin and block the event loop.
            leasing = self._leasing.get(subject)
            if leasing is None or leasing.done():
                leasing = asyncio.ensure_future(self._lease(subject, rate, burst))
                self._leasing[subject] = leasing
                leasing.add_done_callback(partial(self._forget_lease, subject))
            if await asyncio.shield(leasing):
                return Allowance(True)

    def _forget_lease(self, subject: str, lease: asyncio.Future[bool]) -> None:
        # Only this lease: a newer one may already stand in its place.
        if self._leasing.get(subject) is lease:
            del self._leasing[subject]

    async def _lease(self, subject: str, rate: float, burst: int) -> bool:
        """Ask the bucket for a lease; answers True when Redis could not be asked."""
        try:
            granted, retry_ms = await self._script(
                keys=[f"{self._namespace}:ratelimit:{subject}"],
                args=[rate, burst, lease_size(rate, burst)],
            )
        except RedisError as error:
            log.warning("rate limiter unavailable: %s", type(error).__name__)
            return True
        now = time.monotonic()
        if len(self._leases) + len(self._refused_until) >= MAX_LEASED_SUBJECTS:
            self._leases.clear()
            self._refused_until.clear()
        if granted:
            self._leases[subject] = (int(granted), now + LEASE_SECONDS)
        else:
            self._refused_until[subject] = now + int(retry_ms) / 1000
        return False


def _whole_seconds(seconds: float) -> int:
    """Retry-After is whole seconds; never 0, which would invite an immediate retry."""
    return max(1, math.ceil(seconds))

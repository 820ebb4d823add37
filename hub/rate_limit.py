"""Per-client rate limits: a token bucket in Redis, shared by every hub process.

The bucket refills at ``rate`` tokens a second up to ``burst``; each request takes one.
The script reads Redis's own clock, so hubs with skewed clocks share one bucket fairly.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

log = logging.getLogger(__name__)

_TOKEN_BUCKET = """
local rate = tonumber(ARGV[1])
local burst = tonumber(ARGV[2])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local state = redis.call('HMGET', KEYS[1], 'tokens', 'ts')
local tokens = tonumber(state[1]) or burst
local ts = tonumber(state[2]) or now
tokens = math.min(burst, tokens + math.max(0, now - ts) * rate / 1000)
local retry_ms = 0
local allowed = 0
if tokens >= 1 then
  tokens = tokens - 1
  allowed = 1
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

    async def take(self, subject: str, *, rate: float, burst: int) -> Allowance:
        """Take one token from ``subject``'s bucket. Fails open if Redis cannot answer:
        an outage of the limiter must not become an outage of the API."""
        try:
            allowed, retry_ms = await self._script(
                keys=[f"{self._namespace}:ratelimit:{subject}"], args=[rate, burst]
            )
        except RedisError as error:
            log.warning("rate limiter unavailable: %s", type(error).__name__)
            return Allowance(True)
        if allowed:
            return Allowance(True)
        return Allowance(False, retry_after_seconds=max(1, -(-int(retry_ms) // 1000)))

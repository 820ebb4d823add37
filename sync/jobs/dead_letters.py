"""Messages that failed for good (their retries used up), kept until an operator resends
them: ``memberhub jobs failed`` lists them, ``memberhub jobs retry ID`` enqueues one again.

dramatiq's Redis broker keeps its own dead-letter queue, but it stores the message as first
enqueued, without the error that finally failed it; this list keeps the error too.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
from dramatiq import Broker, Message, Middleware
from dramatiq.broker import MessageProxy
from dramatiq.common import q_name
from redis import Redis

#: Longest error text kept per message.
MAX_ERROR_LENGTH = 500
#: Options a resent message must not inherit: it starts with its retries unused.
_RUN_STATE_OPTIONS = frozenset(
    {"retries", "traceback", "requeue_timestamp", "redis_message_id", "eta"}
)


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    queue_name: str
    actor_name: str
    args: tuple[Any, ...]
    kwargs: dict[str, Any]
    options: dict[str, Any]
    error: str
    failed_at: datetime

    def args_summary(self, width: int = 60) -> str:
        parts = [repr(a) for a in self.args] + [f"{k}={v!r}" for k, v in self.kwargs.items()]
        text = ", ".join(parts)
        return text if len(text) <= width else text[: width - 1] + "…"


class DeadLetterStore:
    """A Redis hash of failed messages by message ID, and an index by failure time."""

    def __init__(self, redis: Redis, *, key_prefix: str, retention: timedelta) -> None:
        self._redis = redis
        self._messages = f"{key_prefix}:dead-letters"
        self._by_time = f"{key_prefix}:dead-letters:by-time"
        self._retention = retention

    def add(self, message: Message, *, error: str, failed_at: float) -> None:
        record = {
            "message_id": message.message_id,
            "queue_name": q_name(message.queue_name),
            "actor_name": message.actor_name,
            "args": list(message.args),
            "kwargs": dict(message.kwargs),
            "options": {k: v for k, v in message.options.items() if k not in _RUN_STATE_OPTIONS},
            "error": error[:MAX_ERROR_LENGTH],
            "failed_at": failed_at,
        }
        expired_before = failed_at - self._retention.total_seconds()
        expired = self._redis.zrangebyscore(self._by_time, 0, expired_before)
        pipeline = self._redis.pipeline(transaction=True)
        pipeline.hset(self._messages, message.message_id, orjson.dumps(record))
        pipeline.zadd(self._by_time, {message.message_id: failed_at})
        if expired:
            pipeline.hdel(self._messages, *expired)
            pipeline.zrem(self._by_time, *expired)
        pipeline.execute()

    def list(self) -> list[DeadLetter]:
        """Oldest failure first."""
        ids = self._redis.zrange(self._by_time, 0, -1)
        if not ids:
            return []
        records = self._redis.hmget(self._messages, ids)
        return [_dead_letter(orjson.loads(r)) for r in records if r is not None]

    def get(self, message_id: str) -> DeadLetter | None:
        raw = self._redis.hget(self._messages, message_id)
        return None if raw is None else _dead_letter(orjson.loads(raw))

    def retry(self, broker: Broker, message_id: str) -> DeadLetter | None:
        """Enqueue a failed message again, with its retries unused, and drop it from the
        list; None for an unknown ID. Enqueued first, so a crash in between leaves it
        listed (and resendable) rather than lost."""
        letter = self.get(message_id)
        if letter is None:
            return None
        broker.enqueue(
            Message(
                queue_name=letter.queue_name,
                actor_name=letter.actor_name,
                args=letter.args,
                kwargs=letter.kwargs,
                options=letter.options,
                message_id=letter.message_id,
            )
        )
        pipeline = self._redis.pipeline(transaction=True)
        pipeline.hdel(self._messages, message_id)
        pipeline.zrem(self._by_time, message_id)
        pipeline.execute()
        return letter


def _dead_letter(record: dict[str, Any]) -> DeadLetter:
    return DeadLetter(
        message_id=record["message_id"],
        queue_name=record["queue_name"],
        actor_name=record["actor_name"],
        args=tuple(record["args"]),
        kwargs=record["kwargs"],
        options=record["options"],
        error=record["error"],
        failed_at=datetime.fromtimestamp(record["failed_at"], UTC),
    )


class DeadLetters(Middleware):
    """Records every message the worker rejects (``nack``: failed after its retries)."""

    def __init__(self, store: DeadLetterStore) -> None:
        self.store = store

    def after_nack(self, broker: Broker, message: MessageProxy) -> None:
        exception = message._exception
        error = "failed" if exception is None else f"{type(exception).__name__}: {exception}"
        self.store.add(message._message, error=error, failed_at=time.time())

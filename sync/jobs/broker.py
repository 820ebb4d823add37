"""The dramatiq broker, set explicitly: never the default one dramatiq would build on import."""

from __future__ import annotations

from datetime import timedelta

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO

from sync.jobs.dead_letters import DeadLetters, DeadLetterStore

#: How long a failed message stays listed when nobody resends it.
DEAD_LETTER_RETENTION = timedelta(days=30)


def queue_namespace(namespace: str) -> str:
    """The Redis key prefix of the job queues (and of the dead-letter list)."""
    return f"{namespace}-jobs"


def create_broker(redis_url: str, *, namespace: str) -> RedisBroker:
    """A Redis broker for the hub's actors, installed as dramatiq's global broker."""
    broker = RedisBroker(url=redis_url, namespace=queue_namespace(namespace))
    broker.add_middleware(AsyncIO())
    broker.add_middleware(DeadLetters(dead_letter_store(broker, namespace=namespace)))
    dramatiq.set_broker(broker)
    return broker


def dead_letter_store(broker: RedisBroker, *, namespace: str) -> DeadLetterStore:
    return DeadLetterStore(
        broker.client, key_prefix=queue_namespace(namespace), retention=DEAD_LETTER_RETENTION
    )

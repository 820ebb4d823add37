"""The dramatiq broker, set explicitly: never the default one dramatiq would build on import."""

from __future__ import annotations

import dramatiq
from dramatiq.brokers.redis import RedisBroker
from dramatiq.middleware import AsyncIO


def create_broker(redis_url: str, *, namespace: str) -> RedisBroker:
    """A Redis broker for the hub's actors, installed as dramatiq's global broker."""
    broker = RedisBroker(url=redis_url, namespace=f"{namespace}-jobs")
    broker.add_middleware(AsyncIO())
    dramatiq.set_broker(broker)
    return broker

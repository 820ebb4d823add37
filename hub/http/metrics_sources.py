"""What ``/metrics`` reads when scraped: the outbox backlog, webhook deliveries, job queues
and the API's database pool. Read then, not counted as it happens, because the work is
done by worker processes that serve no ``/metrics`` of their own."""

from __future__ import annotations

from typing import Any

import structlog
from redis.asyncio import Redis
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.http.metrics import Metrics
from sync.jobs.broker import queue_namespace

log = structlog.get_logger("memberhub.metrics")

_BACKLOG = text(
    "SELECT count(*), coalesce(extract(epoch FROM now() - min(occurred_at)), 0)"
    " FROM outbox_events WHERE dispatched_at IS NULL"
)
_DELIVERIES = text(
    "SELECT status, count(*) FROM webhook_deliveries"
    " WHERE status = 'PENDING' OR created_at > now() - interval '1 day' GROUP BY status"
)
DELIVERY_STATUSES = ("PENDING", "DELIVERED", "FAILED")


async def refresh_metrics(
    metrics: Metrics, *, engine: AsyncEngine, redis: Redis, namespace: str
) -> None:
    """Set the gauges read from the database and Redis; a source that fails is skipped (the
    scrape still answers, with that source's last values)."""
    try:
        async with engine.connect() as connection:
            backlog, oldest = (await connection.execute(_BACKLOG)).one()
            deliveries = {status: count for status, count in await connection.execute(_DELIVERIES)}
        metrics.outbox_backlog.set(backlog)
        metrics.outbox_oldest_seconds.set(float(oldest))
        for status in DELIVERY_STATUSES:
            metrics.webhook_deliveries.labels(status).set(deliveries.get(status, 0))
    except Exception as error:  # a scrape must answer even with the database away
        log.warning("metrics_source_failed", source="postgres", error=type(error).__name__)
    try:
        await _refresh_jobs(metrics, redis, queue_namespace(namespace))
    except Exception as error:
        log.warning("metrics_source_failed", source="redis", error=type(error).__name__)
    _refresh_pool(metrics, engine.pool)


async def _refresh_jobs(metrics: Metrics, redis: Redis, prefix: str) -> None:
    # dramatiq's Redis broker keeps each queue's messages in a hash ``{prefix}:{queue}.msgs``.
    async for raw in redis.scan_iter(match=f"{prefix}:*.msgs", count=100):
        key = raw.decode() if isinstance(raw, bytes) else str(raw)
        queue = key[len(prefix) + 1 : -len(".msgs")]
        metrics.jobs_queued.labels(queue).set(await redis.hlen(key))
    metrics.jobs_failed.set(await redis.hlen(f"{prefix}:dead-letters"))


def _refresh_pool(metrics: Metrics, pool: Any) -> None:
    if not hasattr(pool, "checkedout"):
        return  # a pool without counts (NullPool)
    in_use = pool.checkedout()
    metrics.db_pool_connections.labels("in_use").set(in_use)
    metrics.db_pool_connections.labels("idle").set(pool.checkedin())
    metrics.db_pool_connections.labels("overflow").set(max(pool.overflow(), 0))
    metrics.db_pool_size.set(pool.size())

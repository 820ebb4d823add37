"""Prometheus metrics of one app: requests and latencies per GraphQL operation, and the
state of the work behind the API (outbox, webhook deliveries, jobs, database pools).

With ``serve --workers N`` the processes share their samples through prometheus-client's
multiprocess mode (``PROMETHEUS_MULTIPROC_DIR``, set by ``serve`` before the workers
start): any worker's ``/metrics`` answers for all of them.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.multiprocess import MultiProcessCollector

from hub.http.operation_labels import OperationLabels

MULTIPROC_ENV = "PROMETHEUS_MULTIPROC_DIR"


def multiprocess() -> bool:
    return bool(os.environ.get(MULTIPROC_ENV))


class Metrics:
    def __init__(self, *, known_operations: frozenset[str] = frozenset()) -> None:
        self.registry = CollectorRegistry()
        self.operations = OperationLabels(known_operations)
        self.requests = Counter(
            "memberhub_graphql_requests",
            "GraphQL requests by operation and outcome.",
            ["operation", "outcome"],
            registry=self.registry,
        )
        self.latency = Histogram(
            "memberhub_graphql_request_seconds",
            "GraphQL request latency by operation.",
            ["operation"],
            registry=self.registry,
            buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
        )
        self.unauthenticated = Counter(
            "memberhub_unauthenticated_requests",
            "Requests refused with 401.",
            registry=self.registry,
        )
        self.rate_limited = Counter(
            "memberhub_rate_limited_requests",
            "Requests refused with 429, by client kind.",
            ["kind"],
            registry=self.registry,
        )
        # Read from the database and Redis when scraped: the same for every process, so the
        # most recent sample of any process is the answer.
        shared = partial(Gauge, registry=self.registry, multiprocess_mode="mostrecent")
        self.outbox_backlog = shared(
            "memberhub_outbox_backlog", "Outbox events not yet dispatched."
        )
        self.outbox_oldest_seconds = shared(
            "memberhub_outbox_oldest_seconds",
            "Age of the oldest outbox event not yet dispatched (0 when none).",
        )
        self.webhook_deliveries = shared(
            "memberhub_webhook_deliveries",
            "Webhook deliveries by status: PENDING all, DELIVERED and FAILED of the last day.",
            ["status"],
        )
        self.jobs_queued = shared(
            "memberhub_jobs_queued",
            "Background job messages enqueued or running, by queue.",
            ["queue"],
        )
        self.jobs_failed = shared(
            "memberhub_jobs_failed",
            "Job messages that failed for good, kept for `memberhub jobs retry`.",
        )
        # Per process: summed over the live workers.
        self.db_pool_connections = Gauge(
            "memberhub_db_pool_connections",
            "Database connections of the API's pool, by state (in_use, idle, overflow).",
            ["state"],
            registry=self.registry,
            multiprocess_mode="livesum",
        )
        self.db_pool_size = Gauge(
            "memberhub_db_pool_size",
            "Configured size of the API's database pool.",
            registry=self.registry,
            multiprocess_mode="livemax",
        )

        # The labelled series of each (operation, outcome), looked up once: ``labels()``
        # takes a lock and builds its key on every call, twice per request.
        self._series: dict[tuple[str, str], tuple[Any, Any]] = {}

    def observe(self, operation: str, outcome: str, seconds: float) -> None:
        """Count one request; ``operation`` must already be a label (``operations.label``)."""
        series = self._series.get((operation, outcome))
        if series is None:
            series = (self.requests.labels(operation, outcome), self.latency.labels(operation))
            self._series[(operation, outcome)] = series
        series[0].inc()
        series[1].observe(seconds)

    def render(self) -> bytes:
        if multiprocess():
            registry = CollectorRegistry()
            MultiProcessCollector(registry)
            return generate_latest(registry)
        return generate_latest(self.registry)

"""Prometheus metrics of one app: requests and latencies per GraphQL operation."""

from __future__ import annotations

from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
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

        # The labelled series of each (operation, outcome), looked up once: ``labels()``
        # takes a lock and builds its key on every call, twice per request.
        self._series: dict[tuple[str, str], tuple[Any, Any]] = {}

    def observe(self, operation: str, outcome: str, seconds: float) -> None:
        series = self._series.get((operation, outcome))
        if series is None:
            series = (self.requests.labels(operation, outcome), self.latency.labels(operation))
            self._series[(operation, outcome)] = series
        series[0].inc()
        series[1].observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)

"""What background work needs in a worker process: the database, HTTP, the clock, policies.

asyncpg connections belong to the event loop that opened them, and a worker process runs
several loops (dramatiq's loop for async actors, the dispatcher's own). So each loop gets
its own engine and HTTP client, made on first use and closed with ``close_loop``; nothing
is shared with a request's session.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import httpx
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker

from sync.model import DeliveryPolicy
from sync.webhooks.egress import EgressPolicy, egress_client


@dataclass
class _LoopResources:
    engine: AsyncEngine
    session_factory: async_sessionmaker[AsyncSession]
    http: httpx.AsyncClient


@dataclass(eq=False)
class JobRuntime:
    #: Builds an engine for the calling loop (the hub passes its ``create_engine``).
    engine_factory: Callable[[], AsyncEngine]
    now: Callable[[], datetime]
    #: Builds the loop's session factory on its engine (the hub passes its own, so that
    #: jobs run in the same kind of session as requests).
    sessions_for: Callable[[AsyncEngine], async_sessionmaker[AsyncSession]]
    policy: DeliveryPolicy = field(default_factory=DeliveryPolicy)
    #: Where deliveries may connect (the operator's allow-list).
    egress: EgressPolicy = field(default_factory=EgressPolicy)
    _loops: dict[asyncio.AbstractEventLoop, _LoopResources] = field(
        default_factory=dict, repr=False
    )
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def _resources(self) -> _LoopResources:
        loop = asyncio.get_running_loop()
        with self._lock:
            resources = self._loops.get(loop)
            if resources is None:
                engine = self.engine_factory()
                resources = _LoopResources(
                    engine=engine,
                    session_factory=self.sessions_for(engine),
                    http=egress_client(self.egress),
                )
                self._loops[loop] = resources
            return resources

    def session_factory(self) -> async_sessionmaker[AsyncSession]:
        """Sessions on the calling event loop's engine."""
        return self._resources().session_factory

    def http(self) -> httpx.AsyncClient:
        return self._resources().http

    async def close_loop(self) -> None:
        """Close the calling loop's engine and HTTP client, if it made any."""
        with self._lock:
            resources = self._loops.pop(asyncio.get_running_loop(), None)
        if resources is not None:
            await resources.http.aclose()
            await resources.engine.dispose()

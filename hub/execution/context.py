"""The per-request GraphQL context: the caller, the clock, the loaders, a session on demand.

Reads written as ``text()`` run on the read pool; everything else, and every write, on one
SQLAlchemy session, opened the first time a resolver needs it (most reads never do).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from hub.clock import Clock
from hub.db.driver_sql import runs_raw
from hub.db.read_pool import ReadPool
from hub.http.principal import Principal
from hub.loading.loaders import Loaders
from hub.settings import Settings
from sync.outbox import outbox_written_at_end

T = TypeVar("T")

#: A transaction that lost a race is tried again this many times in all.
TRANSACTION_ATTEMPTS = 5


#: serialization_failure, deadlock_detected: the transaction lost a race, not a rule.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})


def sqlstate(error: BaseException) -> str | None:
    return getattr(getattr(error, "orig", None), "sqlstate", None)


def is_retryable(error: BaseException) -> bool:
    """A lost race: a retryable SQLSTATE, or a domain error marked ``retryable`` (e.g. an
    identity linked concurrently past its lock), which a fresh attempt re-reads."""
    return sqlstate(error) in RETRYABLE_SQLSTATES or getattr(error, "retryable", False) is True


@dataclass(eq=False)
class Context:
    principal: Principal
    clock: Clock
    settings: Settings
    redis: Redis
    open_session: Callable[[], AsyncSession]
    reads: ReadPool
    loaders: Loaders = field(init=False)
    #: One AsyncSession cannot run two statements at once; sibling resolvers take turns.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    _session: AsyncSession | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(self.execute)

    @property
    def session(self) -> AsyncSession:
        if self._session is None:
            self._session = self.open_session()
        return self._session

    async def close(self) -> None:
        """End the request: close its session, and let go of its loaders.

        The loaders hold ``self.execute``, so a context and everything its loaders cached
        form a reference cycle that only the garbage collector would free, setting off
        frequent collections under load. Dropped here, refcounting frees them at once
        (``tests/hub/test_reference_cycles.py`` keeps it so)."""
        self.__dict__.pop("loaders", None)
        if self._session is not None:
            await self._session.close()

    def now(self) -> datetime:
        return self.clock.now()

    async def execute(self, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
        """Run a read: ``text()`` on the read pool, other statements on the session."""
        if runs_raw(statement):
            return await self.reads.execute(statement, parameters)
        async with self.lock:
            # Core statements on the session's connection: same transaction, without the
            # ORM's per-statement bookkeeping, which dominated the cost of small reads.
            connection = await self.session.connection()
            return await connection.execute(statement, parameters)

    @asynccontextmanager
    async def _unit_of_work(self) -> AsyncIterator[AsyncSession]:
        async with self.lock:
            if self.session.in_transaction():
                # A read transaction from an earlier field: end it, a write starts afresh.
                await self.session.rollback()
            async with self.session.begin(), outbox_written_at_end(self.session):
                yield self.session

    async def transact(self, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        """Run ``work`` in one transaction and commit; retried when it loses a race.

        Any exception rolls the whole transaction back; domain errors propagate to the
        resolver, which turns them into user errors.
        """
        for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
            try:
                async with self._unit_of_work() as session:
                    return await work(session)
            except Exception as exc:
                if attempt == TRANSACTION_ATTEMPTS or not is_retryable(exc):
                    raise
                await asyncio.sleep(0.005 * attempt)
        raise AssertionError("unreachable")

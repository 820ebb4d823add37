"""The per-request GraphQL context: one session, the caller, the clock, the loaders."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession

from hub.clock import Clock
from hub.principal import Principal
from hub.settings import Settings

if TYPE_CHECKING:
    from hub.loaders import Loaders

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
    session: AsyncSession
    principal: Principal
    clock: Clock
    settings: Settings
    redis: Redis
    loaders: Loaders
    #: One AsyncSession cannot run two statements at once; sibling resolvers take turns.
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    def now(self) -> datetime:
        return self.clock.now()

    async def execute(self, statement: Any, parameters: dict[str, Any] | None = None) -> Any:
        """Run a read on the request's session, one statement at a time."""
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
            async with self.session.begin():
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

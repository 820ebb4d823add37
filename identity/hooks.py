"""In-transaction domain events: the extension point between domain packages.

A domain service publishes an event (``MemberCreated``, ``MembersMerged`` …) inside the
caller's transaction; every handler subscribed to its type (or a base type) runs in that
same transaction, so the ledger's sign-up bonus or the outbox row commits or rolls back
together with the change that caused it. Packages that depend on ``identity`` subscribe
here; ``identity`` itself never imports them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any, ClassVar, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession


@dataclasses.dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every published event. ``event_type`` names it on the outbox and webhooks."""

    event_type: ClassVar[str]
    #: Bumped when the payload changes shape; receivers dispatch on (type, version).
    version: ClassVar[int] = 1

    member_id: int | None

    def payload(self) -> dict[str, Any]:
        """JSON-ready fields of the event."""
        return {f.name: _jsonable(getattr(self, f.name)) for f in dataclasses.fields(self)}


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, list | tuple | frozenset | set):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    return value


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[AsyncSession, Any], Awaitable[None]]


class EventHooks:
    """Handlers by event type, run in subscription order, base-type handlers included."""

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Handler]] = {}

    def subscribe(
        self, event_type: type[E], handler: Callable[[AsyncSession, E], Awaitable[None]]
    ) -> None:
        handlers = self._handlers.setdefault(event_type, [])
        if handler not in handlers:
            handlers.append(handler)

    async def publish(self, session: AsyncSession, event: DomainEvent) -> None:
        for cls in type(event).__mro__:
            for handler in self._handlers.get(cls, ()):
                await handler(session, event)


#: The process-wide registry; the app, the worker and the CLI wire it up at start.
hooks = EventHooks()

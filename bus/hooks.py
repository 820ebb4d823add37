"""In-transaction domain events: the extension point between domain packages.

A domain service publishes an event (``MemberCreated``, ``MembersMerged`` …) inside the
caller's transaction; every handler subscribed to its type (or a base type) runs in that
same transaction, so the ledger's sign-up bonus or the outbox row commits or rolls back
together with the change that caused it. Packages that depend on ``identity`` subscribe
here; ``identity`` itself never imports them.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Sequence
from decimal import Decimal
from typing import Any, ClassVar, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession


@dataclasses.dataclass(frozen=True, kw_only=True)
class DomainEvent:
    """Base of every published event. ``event_type`` names it on the outbox and webhooks."""

    event_type: ClassVar[str]
    #: Bumped when the payload changes shape; receivers dispatch on (type, version).
    version: ClassVar[int] = 1

    member_id: int | None


def payload_value(value: Any) -> Any:
    """A value of an event's field that orjson cannot write itself, as the payload holds it.

    An event's payload is its fields, written by orjson as it writes any dataclass
    (datetimes and dates in ISO 8601, enums by value, tuples as lists); building a dict of
    every event first cost a batch of purchases a fiftieth of its CPU.
    """
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, frozenset | set):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not a payload value")


E = TypeVar("E", bound=DomainEvent)
Handler = Callable[[AsyncSession, Any], Awaitable[None]]
BatchHandler = Callable[[AsyncSession, Sequence[Any]], Awaitable[None]]


class EventHooks:
    """Handlers by event type, run in subscription order, base-type handlers included."""

    def __init__(self) -> None:
        self._handlers: dict[type[DomainEvent], list[Handler]] = {}
        self._batch_forms: dict[Handler, BatchHandler] = {}

    def subscribe(
        self,
        event_type: type[E],
        handler: Callable[[AsyncSession, E], Awaitable[None]],
        *,
        many: Callable[[AsyncSession, Sequence[E]], Awaitable[None]] | None = None,
    ) -> None:
        """Run ``handler`` for each published ``event_type``; ``many``, when given, takes a
        whole ``publish_many`` of them in one call (one statement instead of one per event)."""
        handlers = self._handlers.setdefault(event_type, [])
        if handler not in handlers:
            handlers.append(handler)
        if many is not None:
            self._batch_forms[handler] = many

    def subscriptions(self) -> int:
        """How many handlers are subscribed, over every event type."""
        return sum(len(handlers) for handlers in self._handlers.values())

    def _handlers_of(self, event: DomainEvent) -> list[Handler]:
        return [h for cls in type(event).__mro__ for h in self._handlers.get(cls, ())]

    async def publish(self, session: AsyncSession, event: DomainEvent) -> None:
        for handler in self._handlers_of(event):
            await handler(session, event)

    async def publish_many(self, session: AsyncSession, events: Sequence[DomainEvent]) -> None:
        """Publish ``events`` in order: each handler sees them in that order, a handler with
        a batch form all of its share in one call."""
        shares: dict[Handler, list[DomainEvent]] = {}
        for event in events:
            for handler in self._handlers_of(event):
                shares.setdefault(handler, []).append(event)
        for handler, share in shares.items():
            many = self._batch_forms.get(handler)
            if many is not None:
                await many(session, share)
                continue
            for event in share:
                await handler(session, event)


#: Where a session carries the bus its events go to (``AsyncSession.info``).
BUS = "memberhub.bus"


def session_info(bus: EventHooks) -> dict[str, Any]:
    """The ``info`` of sessions that publish to ``bus``."""
    return {BUS: bus}


def bus_of(session: AsyncSession) -> EventHooks:
    """The bus ``session`` was made with. There is no process-wide bus: ``hub.wiring``
    builds one at start-up and the session factories hand it to every unit of work."""
    bus = session.info.get(BUS)
    if bus is None:
        raise RuntimeError("a session made without the event bus (see hub.wiring) published")
    return bus


async def publish(session: AsyncSession, event: DomainEvent) -> None:
    """Run the handlers of ``event`` in ``session``'s transaction."""
    await bus_of(session).publish(session, event)


async def publish_many(session: AsyncSession, events: Sequence[DomainEvent]) -> None:
    """``EventHooks.publish_many`` on ``session``'s bus."""
    await bus_of(session).publish_many(session, events)

"""The transactional outbox: every domain event becomes a row in the transaction that caused it.

Delivery reads committed rows, so an event is never sent for a change that rolled back and
never lost for one that committed. Inside ``outbox_written_at_end`` a session's events are
kept in order and written with one INSERT when the work ends, not one per publish: a new
member's enrolment published four times, a till's run of purchases twice.

Events written here get time-ordered IDs (UUID version 7, RFC 9562): the statement's
first ID from the clock and random bits, the rest counting up from it. The outbox is kept,
so its unique index on ``event_id`` only grows; random IDs would land all over it, and at
150,000 events already cost a batch of purchases a third more for its events' INSERT.
"""

from __future__ import annotations

import os
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager

import orjson
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import DomainEvent, EventHooks, payload_value

#: One statement text for any number of events, kept in their order. Built once: an
#: identify appends four events, and building the statement per call cost more than its
#: round trip. The n-th event's ID is the two halves of ``_first_event_id`` plus n.
_APPEND = text(
    "INSERT INTO outbox_events"
    " (event_id, event_type, version, member_id, payload, occurred_at)"
    " SELECT CAST(lpad(to_hex(CAST(:id_high AS bigint)), 16, '0')"
    " || lpad(to_hex(CAST(:id_low AS bigint) + n), 16, '0') AS uuid),"
    " t, v, m, CAST(p AS jsonb), now()"
    " FROM unnest(CAST(:types AS text[]), CAST(:versions AS int[]),"
    " CAST(:members AS bigint[]), CAST(:payloads AS text[])) WITH ORDINALITY"
    " AS e(t, v, m, p, n) ORDER BY n"
)


_KEPT = "memberhub.outbox.kept"

#: An event as its row is written: type, version, member, payload (JSON, made when it is
#: published, so that what it says is what was true then).
_Row = tuple[str, int, int | None, str]


@asynccontextmanager
async def outbox_written_at_end(session: AsyncSession) -> AsyncIterator[None]:
    """Keep the events ``session`` publishes inside this block and write them, in their
    order, with one INSERT when it ends without error (the transaction is to roll back
    otherwise). The block must not span a savepoint that may roll back on its own."""
    kept: list[_Row] = []
    session.info[_KEPT] = kept
    try:
        yield
    finally:
        del session.info[_KEPT]
    if kept:
        await _insert(session, kept)


async def append_event(session: AsyncSession, event: DomainEvent) -> None:
    await append_events(session, [event])


async def append_events(session: AsyncSession, events: Sequence[DomainEvent]) -> None:
    """Many events in one INSERT, in their order (or kept for the end of the block)."""
    rows = [
        (
            e.event_type,
            e.version,
            e.member_id,
            orjson.dumps(e, default=payload_value, option=orjson.OPT_NON_STR_KEYS).decode(),
        )
        for e in events
    ]
    kept = session.info.get(_KEPT)
    if kept is not None:
        kept.extend(rows)
    else:
        await _insert(session, rows)


#: Low bits of an ID that count a statement's events; the bits above them are random.
_COUNTER_BITS = 20


def _first_event_id() -> tuple[int, int]:
    """The high and low halves, as signed 64-bit integers, of a UUIDv7 whose last
    ``_COUNTER_BITS`` bits are zero: 48 bits of Unix milliseconds, the version, 12 random
    bits; the variant, 42 random bits, the counter."""
    milliseconds = time.time_ns() // 1_000_000
    random = int.from_bytes(os.urandom(7))  # 56 bits: 12 + 42 used
    high = milliseconds << 16 | 0x7 << 12 | random >> 44
    low = 0b10 << 62 | (random & (1 << 42) - 1) << _COUNTER_BITS
    return high, low - (1 << 64)


async def _insert(session: AsyncSession, rows: Sequence[_Row]) -> None:
    assert len(rows) < 1 << _COUNTER_BITS, "a statement's events fit its IDs' counter"
    types, versions, members, payloads = zip(*rows, strict=True)
    high, low = _first_event_id()
    await session.execute(
        _APPEND,
        {
            "id_high": high,
            "id_low": low,
            "types": list(types),
            "versions": list(versions),
            "members": list(members),
            "payloads": list(payloads),
        },
    )


def subscribe_outbox(hooks: EventHooks) -> None:
    hooks.subscribe(DomainEvent, append_event, many=append_events)

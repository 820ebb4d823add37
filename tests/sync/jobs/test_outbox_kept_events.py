"""Events kept for the end of a unit of work: written once, in order, or not at all."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from sqlalchemy import text

from identity.events import MemberCreated
from sync.outbox import append_event, append_events, outbox_written_at_end
from sync.tiers import TierChanged
from tests.statements import counted_statements

ROWS = text("SELECT event_type, member_id, payload->>'channel' FROM outbox_events ORDER BY id")


def created(member_id: int, channel: str = "POS") -> MemberCreated:
    return MemberCreated(member_id=member_id, channel=channel)


async def test_kept_events_are_written_with_one_insert_in_their_order(session_factory, engine):
    with counted_statements(engine) as statements:
        async with (
            session_factory() as session,
            session.begin(),
            outbox_written_at_end(session),
        ):
            await append_event(session, created(1))
            await append_events(session, [created(2), created(3, "WEB")])
            await append_event(session, created(4))

    async with session_factory() as session:
        rows = (await session.execute(ROWS)).all()
    assert rows == [
        ("member.created", 1, "POS"),
        ("member.created", 2, "POS"),
        ("member.created", 3, "WEB"),
        ("member.created", 4, "POS"),
    ]
    assert sum(s.startswith("INSERT INTO outbox_events") for s in statements) == 1


async def test_after_a_failed_attempt_events_are_written_as_before(session_factory):
    session = session_factory()
    with pytest.raises(RuntimeError):
        async with session.begin(), outbox_written_at_end(session):
            await append_event(session, created(1))
            raise RuntimeError("the work failed")
    async with session.begin():
        # Outside a block again: written at once.
        await append_event(session, created(2))
        written_at_once = (await session.execute(ROWS)).all()
    async with session.begin(), outbox_written_at_end(session):
        await append_event(session, created(3))
    rows = (await session.execute(ROWS)).all()
    await session.close()

    assert written_at_once == [("member.created", 2, "POS")]
    assert rows == [("member.created", 2, "POS"), ("member.created", 3, "POS")]


async def test_a_payload_holds_the_events_fields_as_json(session_factory):
    moments = [
        datetime(2026, 3, 1, 9, 30, tzinfo=UTC),
        datetime(2026, 3, 1, 17, 30, 0, 250, tzinfo=timezone(timedelta(hours=8))),
    ]
    async with session_factory() as session, session.begin():
        await append_events(
            session,
            [
                TierChanged(
                    member_id=7,
                    previous="SILVER",
                    current="GOLD",
                    reason="UPGRADE",
                    spend=Decimal("1200.50"),
                    at=at,
                )
                for at in moments
            ],
        )
        payloads = (
            await session.execute(text("SELECT payload FROM outbox_events ORDER BY id"))
        ).scalars()
        written = list(payloads)

    assert written == [
        {
            "member_id": 7,
            "previous": "SILVER",
            "current": "GOLD",
            "reason": "UPGRADE",
            "spend": "1200.50",
            "at": at,
        }
        for at in ("2026-03-01T09:30:00+00:00", "2026-03-01T17:30:00.000250+08:00")
    ]


async def test_events_get_time_ordered_ids(session_factory):
    started = datetime.now(UTC)
    async with session_factory() as session, session.begin():
        await append_events(session, [created(n) for n in range(1, 4)])
        await append_events(session, [created(n) for n in range(4, 6)])
        ids = [
            uuid.UUID(str(i))
            for i in (
                await session.execute(text("SELECT event_id FROM outbox_events ORDER BY id"))
            ).scalars()
        ]

    assert len(set(ids)) == 5
    assert {i.version for i in ids} == {7}
    written_at = [datetime.fromtimestamp((i.int >> 80) / 1000, UTC) for i in ids]
    assert all(started - timedelta(seconds=1) <= at <= datetime.now(UTC) for at in written_at)
    assert written_at == sorted(written_at)
    # One statement's events count up from its first ID.
    assert [i.int - ids[0].int for i in ids[:3]] == [0, 1, 2]
    assert ids[4].int - ids[3].int == 1

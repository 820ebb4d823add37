"""The outbox dispatcher: every committed event reaches dramatiq once, crash or not."""

from __future__ import annotations

import asyncio
import json
from collections import Counter

import pytest
from sqlalchemy import func, select

from identity.events import MemberCreated
from sync.jobs.dispatch import dispatch_outbox, record_deliveries
from sync.tables import outbox_events, webhook_deliveries
from tests.sync.jobs.webhooks_graphql import registered


class BrokerDown(Exception):
    pass


def events(count: int, first_member: int = 1) -> list[MemberCreated]:
    return [MemberCreated(member_id=first_member + i, channel="POS") for i in range(count)]


def received_event_ids(receiver, path: str) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter(json.loads(r.body)["id"] for r in receiver.at(path))


async def undispatched(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as conn:
        return await conn.scalar(
            select(func.count())
            .select_from(outbox_events)
            .where(outbox_events.c.dispatched_at.is_(None))
        )


async def test_an_enqueue_failing_midway_then_a_restart_sends_every_event_once(
    admin, jobs, receiver, engine
):
    await registered(admin, receiver.url("crash"), "member.created")
    await jobs.publish(*events(10))
    calls = 0

    def send_then_fail(delivery_id: int, attempt: int) -> None:
        nonlocal calls
        calls += 1
        if calls > 4:
            raise BrokerDown
        jobs.send(delivery_id, attempt)

    with pytest.raises(BrokerDown):
        await dispatch_outbox(
            session_factory=jobs.session_factory,
            send=send_then_fail,
            now=jobs.clock.now(),
            policy=jobs.policy,
        )
    sent_before_restart = len(jobs.sent)
    await jobs.dispatch_and_drain()

    assert sent_before_restart == 4
    assert sorted(jobs.sent) == sorted(set(jobs.sent)) and len(jobs.sent) == 10
    assert all(attempt == 0 for _, attempt in jobs.sent)
    received = received_event_ids(receiver, "crash")
    assert len(received) == 10 and set(received.values()) == {1}
    assert await undispatched(engine) == 0


async def test_a_dispatcher_killed_after_commit_leaves_nothing_behind(
    admin, jobs, receiver, clock, session_factory
):
    await registered(admin, receiver.url("killed"), "member.created")
    await jobs.publish(*events(5))
    # The first half of a pass commits, then the process dies before sending anything.
    async with session_factory() as session, session.begin():
        claimed, recorded = await record_deliveries(session, now=clock.now(), policy=jobs.policy)

    restarted_at_once = await jobs.dispatch_and_drain()
    clock.advance(jobs.policy.lease)
    after_the_hold = await jobs.dispatch_and_drain()
    clock.advance(jobs.policy.lease)
    later = await jobs.dispatch_and_drain()

    assert (claimed, len(recorded)) == (5, 5)
    assert restarted_at_once.messages == 0
    assert after_the_hold.messages == 5
    assert later.messages == 0
    assert sorted(delivery for delivery, _ in jobs.sent) == sorted(d for d, _ in recorded)
    received = received_event_ids(receiver, "killed")
    assert len(received) == 5 and set(received.values()) == {1}


async def test_a_duplicate_message_for_an_attempt_does_nothing(admin, jobs, receiver, clock):
    await registered(admin, receiver.url("twice"), "member.created")
    await jobs.publish(*events(1))
    await jobs.dispatch_and_drain()
    ((delivery_id, attempt),) = jobs.sent

    jobs.actors.deliver_webhook.send(delivery_id, attempt)
    await jobs.drain()

    assert len(receiver.at("twice")) == 1


async def test_concurrent_dispatchers_take_disjoint_batches(admin, jobs, receiver, engine):
    await registered(admin, receiver.url("busy-a"), "member.created")
    await registered(admin, receiver.url("busy-b"), "member.created")
    await jobs.publish(*events(100))

    reports = await asyncio.gather(
        *(
            dispatch_outbox(
                session_factory=jobs.session_factory,
                send=jobs.send,
                now=jobs.clock.now(),
                policy=jobs.policy,
                batch=10,
            )
            for _ in range(4)
        )
    )
    await jobs.drain()

    assert sum(r.events for r in reports) == 100
    assert len(jobs.sent) == 200 and len(set(jobs.sent)) == 200
    assert await undispatched(engine) == 0
    assert len(received_event_ids(receiver, "busy-a")) == 100
    assert len(received_event_ids(receiver, "busy-b")) == 100


async def test_events_nobody_may_receive_are_dispatched_without_deliveries(
    admin, graphql_client, jobs, engine, run_in_transaction
):
    from sqlalchemy import text

    partner = await graphql_client("partner", name="leaver")
    await registered(partner, "https://leaver.example/h", "member.created")
    await run_in_transaction(
        lambda s: s.execute(text("UPDATE api_clients SET revoked_at = now() WHERE name = 'leaver'"))
    )
    await jobs.publish(*events(3))

    report = await jobs.dispatch()

    assert (report.events, report.messages) == (3, 0)
    assert await undispatched(engine) == 0
    async with engine.connect() as conn:
        assert await conn.scalar(select(func.count()).select_from(webhook_deliveries)) == 0


async def test_the_scheduled_dispatch_pass_runs_on_the_worker(admin, jobs, receiver, clock):
    await registered(admin, receiver.url("scheduled"), "member.created")
    await jobs.publish(*events(2))

    jobs.actors.dispatch_outbox.send(clock.now().isoformat())
    await jobs.drain()

    assert len(received_event_ids(receiver, "scheduled")) == 2

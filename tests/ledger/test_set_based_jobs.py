"""Settlement, expiry and reminders write a fixed number of statements per batch of
members, however many members and lots are due, and their events reach the outbox in one
INSERT per unit of work."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from ledger.expiry import expire_lots, settle_pending
from ledger.model import Bucket, Channel, EntryKind, EntryRequest
from ledger.posting import post_entries
from ledger.reminders import send_expiry_reminders
from ledger.verify import verify_ledger
from sync.jobs.schedule import ScheduledJob, run_job
from tests.statements import counted_statements

SHANGHAI = ZoneInfo("Asia/Shanghai")
JAN = datetime(2026, 1, 10, 12, 0, tzinfo=SHANGHAI)
DUE = JAN + timedelta(days=1)


def writes(statements: list[str]) -> list[str]:
    """The statements that write: INSERT, UPDATE, and a WITH whose parts do."""
    return [
        s
        for s in statements
        if s.lstrip().upper().startswith(("INSERT", "UPDATE"))
        or (s.lstrip().upper().startswith("WITH") and any(w in s for w in ("INSERT", "UPDATE")))
    ]


async def pending_points(run, config, member_ids: list[int], lots: tuple[int, ...]) -> None:  # type: ignore[no-untyped-def]
    requests = [
        EntryRequest(
            member_id=m,
            kind=EntryKind.EARN,
            bucket=Bucket.PENDING,
            amount=points,
            channel=Channel.POS,
            available_at=DUE,
        )
        for m in member_ids
        for points in lots
    ]
    await run(
        lambda s: post_entries(
            session=s, requests=requests, now=JAN, config=config, operation="import"
        )
    )


async def settle_counted(engine, run, config) -> tuple[int, list[str]]:  # type:
    # ignore[no-untyped-def]
    with counted_statements(engine) as statements:
        settled = await run(lambda s: settle_pending(session=s, now=DUE, config=config))
    return settled, writes(statements)


async def test_settlement_writes_the_same_statements_for_3_members_as_for_120(
    engine, members, balances, run_in_transaction, config
):
    few = await members(3)
    many = await members(120)
    await pending_points(run_in_transaction, config, few, (80, 20))
    settled_few, writes_few = await settle_counted(engine, run_in_transaction, config)
    await pending_points(run_in_transaction, config, many, (80, 20))
    settled_many, writes_many = await settle_counted(engine, run_in_transaction, config)
    events = await run_in_transaction(
        lambda s: s.scalar(
            text(
                "SELECT count(*) FROM outbox_events"
                " WHERE payload->>'kind' = 'SETTLE' AND event_type LIKE 'points.%'"
            )
        )
    )
    report = await run_in_transaction(lambda s: verify_ledger(session=s))

    assert (settled_few, settled_many) == (6, 240)
    assert len(writes_many) == len(writes_few)
    # entries, lots taken from, lots opened, balances with accounts, one outbox INSERT
    assert len(writes_few) == 5
    assert sum("outbox_events" in s for s in writes_many) == 1
    # A pending debit and an available credit per lot settled.
    assert events == 2 * (6 + 240)
    for member_id in (few[0], many[-1]):
        after = await balances(member_id)
        assert (after.pending, after.available) == (0, 100)
    assert report.ok, report.summary()


async def test_settling_into_a_debt_repays_it_before_opening_a_lot(
    member, credit, balances, run_in_transaction, config
):
    member_id = await member()
    await credit(member_id, 50, at=JAN - timedelta(days=1))
    # A clawback-like debt: the available bucket goes below zero.
    await run_in_transaction(
        lambda s: post_entries(
            session=s,
            requests=[
                EntryRequest(
                    member_id=member_id,
                    kind=EntryKind.CLAWBACK,
                    bucket=Bucket.AVAILABLE,
                    amount=-80,
                    channel=Channel.ADMIN,
                )
            ],
            now=JAN,
            config=config,
            operation="clawback",
        )
    )
    await pending_points(run_in_transaction, config, [member_id], (100,))

    settled = await run_in_transaction(lambda s: settle_pending(session=s, now=DUE, config=config))
    opened = await run_in_transaction(
        lambda s: s.scalar(
            text(
                "SELECT sum(remaining) FROM points_lots"
                " WHERE member_id = :m AND bucket = 'AVAILABLE'"
            ),
            {"m": member_id},
        )
    )
    report = await run_in_transaction(lambda s: verify_ledger(session=s))

    assert settled == 1
    assert (await balances(member_id)).available == 70
    assert opened == 70
    assert report.ok, report.summary()


async def test_expiry_of_many_lots_is_one_batch_of_writes(
    engine, members, credit, balances, run_in_transaction, config
):
    member_ids = await members(40)
    for member_id in member_ids:
        await credit(member_id, 30, at=JAN, expires_at=JAN + timedelta(days=30))
        await credit(member_id, 20, at=JAN, expires_at=JAN + timedelta(days=60))
    later = JAN + timedelta(days=45)

    with counted_statements(engine) as statements:
        expired = await run_in_transaction(
            lambda s: expire_lots(session=s, now=later, config=config)
        )
    again = await run_in_transaction(lambda s: expire_lots(session=s, now=later, config=config))

    assert (expired, again) == (40, 0)
    # entries, lots taken from, balances with accounts, one outbox INSERT (no lot opens)
    assert len(writes(statements)) == 4
    assert {(await balances(m)).available for m in member_ids} == {20}


async def test_a_jobs_events_reach_the_outbox_in_one_insert(
    engine, members, credit, session_factory, run_in_transaction
):
    member_ids = await members(15)
    for member_id in member_ids:
        await credit(member_id, 10, at=JAN, expires_at=JAN + timedelta(days=20))
        await credit(member_id, 10, at=JAN, expires_at=JAN + timedelta(days=25))
    job = ScheduledJob(
        name="ledger.remind",
        every=timedelta(days=1),
        run=lambda *, session, now: send_expiry_reminders(session=session, now=now),
    )

    with counted_statements(engine) as statements:
        await run_job(job, session_factory=session_factory, now=JAN + timedelta(days=1))
    reminders = await run_in_transaction(
        lambda s: s.scalar(
            text("SELECT count(*) FROM outbox_events WHERE event_type = 'points.expiring'")
        )
    )

    assert reminders == 30
    assert sum("outbox_events" in s for s in writes(statements)) == 1

"""The periodic jobs: each is safe to run twice in a row and twice at once."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from hub.scheduled_jobs import SCHEDULE, expire_job, remind_job, review_tiers_job, settle_job
from ledger.model import Bucket, Channel, EntryKind, EntryRequest
from ledger.posting import post_entries
from tests.conftest import START


async def _state(run_in_transaction) -> dict[str, int]:  # type: ignore[no-untyped-def]
    row = await run_in_transaction(
        lambda s: s.execute(
            text(
                "SELECT (SELECT count(*) FROM ledger_entries WHERE kind = 'SETTLE') AS settle,"
                " (SELECT count(*) FROM ledger_entries WHERE kind = 'EXPIRE') AS expire,"
                " (SELECT count(*) FROM points_expiry_reminders) AS reminders,"
                " (SELECT count(*) FROM outbox_events WHERE event_type = 'points.expiring')"
                "  AS expiring,"
                " (SELECT count(*) FROM member_tiers) AS tiers"
            )
        )
    )
    return dict(row.one()._mapping)


async def test_each_job_twice_in_a_row_and_twice_at_once_changes_state_once(
    member, credit, run_in_transaction, config
):
    saver, lapsed, soon, demoted = [await member() for _ in range(4)]
    pending = EntryRequest(
        member_id=saver,
        kind=EntryKind.EARN,
        bucket=Bucket.PENDING,
        amount=40,
        channel=Channel.POS,
        available_at=START - timedelta(hours=1),
    )
    await run_in_transaction(
        lambda s: post_entries(
            session=s,
            requests=[pending],
            now=START - timedelta(days=1),
            config=config,
            operation="adjust",
        )
    )
    await credit(lapsed, 70, at=START - timedelta(days=400), expires_at=START - timedelta(days=1))
    await credit(soon, 90, at=START, expires_at=START + timedelta(days=10))
    await run_in_transaction(
        lambda s: s.execute(
            text(
                "INSERT INTO member_tiers (member_id, tier_code, since, reason)"
                " VALUES (:m, 'GOLD', :at, 'UPGRADE')"
            ),
            {"m": demoted, "at": START - timedelta(days=500)},
        )
    )
    before = await _state(run_in_transaction)

    for job in (settle_job, expire_job, remind_job, review_tiers_job):
        await asyncio.gather(
            run_in_transaction(lambda s, job=job: job(session=s, now=START)),
            run_in_transaction(lambda s, job=job: job(session=s, now=START)),
        )
    once = await _state(run_in_transaction)
    for job in (settle_job, expire_job, remind_job, review_tiers_job):
        await run_in_transaction(lambda s, job=job: job(session=s, now=START))
    again = await _state(run_in_transaction)

    assert once == {
        "settle": before["settle"] + 2,  # one SETTLE pair
        "expire": before["expire"] + 1,
        "reminders": 2,  # the 30- and 15-day thresholds, both crossed
        "expiring": 1,  # one event, for the nearer
        "tiers": 2,  # GOLD closed, REGULAR opened
    }
    assert again == once


async def test_a_lot_gets_one_reminder_at_each_threshold_as_days_pass(
    member, credit, run_in_transaction
):
    saver = await member()
    await credit(saver, 50, at=START, expires_at=START + timedelta(days=31, hours=1))

    for day in range(40):
        await run_in_transaction(
            lambda s, day=day: remind_job(session=s, now=START + timedelta(days=day))
        )

    events = await run_in_transaction(
        lambda s: s.scalars(
            text(
                "SELECT payload->>'days_left' FROM outbox_events"
                " WHERE event_type = 'points.expiring' ORDER BY id"
            )
        )
    )
    assert list(events) == ["30", "15", "7", "3"]


def test_every_periodic_job_is_scheduled():
    assert {name for _, name, _, _ in SCHEDULE} == {
        "ledger.settle",
        "ledger.expire",
        "ledger.remind",
        "tiers.review",
        "ledger.purge_keys",
        "intelligence.refresh",
        "coupons.expire",
        "intelligence.reevaluate",
        "events.partitions",
        "campaigns.evaluate",
        "campaigns.deliver",
    }

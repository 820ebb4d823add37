"""Lots: spent first-in-first-out by expiry, expired by the job once, pending points settle."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select

from ledger.expiry import expire_lots, settle_pending
from ledger.model import Bucket, Channel, EntryKind, EntryRequest
from ledger.posting import post_entries
from ledger.tables import ledger_entries, points_lots
from ledger.verify import verify_ledger

SHANGHAI = ZoneInfo("Asia/Shanghai")
JAN = datetime(2026, 1, 10, 12, 0, tzinfo=SHANGHAI)
MARCH = datetime(2026, 3, 31, 23, 59, tzinfo=SHANGHAI)
JUNE = datetime(2026, 6, 30, 23, 59, tzinfo=SHANGHAI)


async def lots_of(run, member_id: int) -> list[tuple[int, int]]:  # type: ignore[no-untyped-def]
    async def read(session):  # type: ignore[no-untyped-def]
        rows = await session.execute(
            select(points_lots.c.amount, points_lots.c.remaining)
            .where(points_lots.c.member_id == member_id)
            .order_by(points_lots.c.expires_at)
        )
        return [tuple(r) for r in rows]

    return await run(read)


async def expired_entries(run, member_id: int) -> list[int]:  # type: ignore[no-untyped-def]
    return await run(
        lambda s: s.execute(
            select(ledger_entries.c.amount).where(
                ledger_entries.c.member_id == member_id, ledger_entries.c.kind == "EXPIRE"
            )
        )
    )


async def test_fifo_by_expiry_then_the_expiry_job_expires_only_what_lapsed_once(
    member, credit, balances, run_in_transaction, config
):
    member_id = await member()
    # The June lot is credited first: expiry order, not crediting order, decides.
    await credit(member_id, 100, at=JAN, expires_at=JUNE)
    await credit(member_id, 100, at=JAN, expires_at=MARCH)
    await credit(member_id, -150, at=JAN + timedelta(days=1))

    after_redeem = await lots_of(run_in_transaction, member_id)
    in_april = await run_in_transaction(
        lambda s: expire_lots(session=s, now=datetime(2026, 4, 15, tzinfo=SHANGHAI), config=config)
    )
    in_july = await run_in_transaction(
        lambda s: expire_lots(session=s, now=datetime(2026, 7, 1, tzinfo=SHANGHAI), config=config)
    )
    again = await run_in_transaction(
        lambda s: expire_lots(session=s, now=datetime(2026, 7, 2, tzinfo=SHANGHAI), config=config)
    )
    expired = (await expired_entries(run_in_transaction, member_id)).scalars().all()
    report = await run_in_transaction(lambda s: verify_ledger(session=s))

    assert after_redeem == [(100, 0), (100, 50)]
    assert in_april == 0
    assert in_july == 1 and again == 0
    assert expired == [-50]
    assert (await balances(member_id)).available == 0
    assert report.ok, report.summary()


async def test_credits_default_to_expire_after_the_programme_months(
    member, credit, run_in_transaction
):
    member_id = await member()

    result = await credit(member_id, 10, at=datetime(2026, 1, 31, 9, 0, tzinfo=SHANGHAI))

    assert result.entry.expires_at == datetime(2027, 1, 31, 9, 0, tzinfo=SHANGHAI)


async def test_pending_points_settle_when_due_once(member, balances, run_in_transaction, config):
    member_id = await member()
    due = JAN + timedelta(days=1)
    pending = EntryRequest(
        member_id=member_id,
        kind=EntryKind.EARN,
        bucket=Bucket.PENDING,
        amount=80,
        channel=Channel.POS,
        available_at=due,
    )
    await run_in_transaction(
        lambda s: post_entries(
            session=s, requests=[pending], now=JAN, config=config, operation="purchase"
        )
    )

    early = await run_in_transaction(
        lambda s: settle_pending(session=s, now=due - timedelta(seconds=1), config=config)
    )
    before = await balances(member_id)
    on_time = await run_in_transaction(lambda s: settle_pending(session=s, now=due, config=config))
    twice = await run_in_transaction(lambda s: settle_pending(session=s, now=due, config=config))
    after = await balances(member_id)
    report = await run_in_transaction(lambda s: verify_ledger(session=s))

    assert early == 0 and (before.pending, before.available) == (80, 0)
    assert on_time == 1 and twice == 0
    assert (after.pending, after.available, after.lifetime_earned) == (0, 80, 80)
    assert report.ok, report.summary()

"""Assigning a whole member base to a campaign's arms, in one statement.

    python -m bench.campaigns [--members 1000000]

Loads a scratch database with members (birthdays spread over the year) and a purchase
for every tenth, starts a ONCE campaign over every active member with two message arms
and a holdout, and times in one transaction each: the evaluation (the INSERT … SELECT that
assigns every member by hash), a rerun (which must assign nobody), a BIRTHDAY campaign's
evaluation (three days out) and again a year later (the next occurrence: the same members
again), and the campaign's report over all its touches.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from bench.harness import fresh_database, timed
from hub.db.engine import create_engine, create_session_factory
from hub.wiring import build_event_bus
from ledger.model import LedgerConfig
from sync.campaigns.assignment import evaluate_campaigns
from sync.campaigns.model import ArmSpec, CampaignSpec, Message, MessageChannel, Trigger
from sync.campaigns.report import campaign_report
from sync.campaigns.store import create_campaign, start_campaign

DATABASE = "memberhub_bench_campaigns"

LOAD = [
    "INSERT INTO members (registered_channel, birthday, created_at, updated_at)"
    " SELECT 'MINI_PROGRAM', DATE '1990-01-01' + (n % 365), :now, :now"
    " FROM generate_series(1, :members) n",
    "INSERT INTO stores (id, name) VALUES ('S001', 'Store')",
    "INSERT INTO purchases (member_id, store_id, receipt_no, channel, amount, occurred_at,"
    " recorded_at, status, content_hash, rule_version, business_day)"
    " SELECT id, 'S001', 'R-' || id, 'POS', 100, CAST(:now AS timestamptz) + interval '1 day',"
    " CAST(:now AS timestamptz), 'COMPLETED',"
    " '\\x00', 'bench', CAST(:now AS date) FROM members WHERE id % 10 = 0",
    "ANALYZE",
]


def arms() -> tuple[ArmSpec, ...]:
    return (
        ArmSpec("sms", 45, message=Message(MessageChannel.SMS, "SMS-1")),
        ArmSpec("partner", 45, message=Message(MessageChannel.WEBHOOK, "WH-1")),
        ArmSpec("holdout", 10),
    )


async def run(members: int) -> None:
    url = await fresh_database(DATABASE)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    sessions = create_session_factory(engine, build_event_bus())
    now = datetime.now(UTC)
    ledger = LedgerConfig()
    try:
        started = time.perf_counter()
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in LOAD:
                await conn.execute(text(statement), {"now": now, "members": members})
        print(f"loaded {members:,} members in {time.perf_counter() - started:.0f} s")
        async with sessions.begin() as session:
            once = await create_campaign(
                session=session,
                spec=CampaignSpec("Everyone", Trigger.ONCE, now, arms()),
                actor="bench",
                now=now,
            )
            await start_campaign(session=session, campaign_id=once.id, now=now)

        def evaluate(session):  # type: ignore[no-untyped-def]
            return evaluate_campaigns(session, now=now, zone="Asia/Shanghai", ledger=ledger)

        await timed(sessions, "ONCE over every member (campaigns, assigned)", evaluate)
        async with sessions.begin() as session:
            # As if the job were killed after committing and run again.
            await session.execute(text("UPDATE campaigns SET status = 'RUNNING'"))
        await timed(sessions, "rerun (assigns nobody again)", evaluate)
        async with sessions.begin() as session:
            await session.execute(text("UPDATE campaigns SET status = 'FINISHED'"))
            birthday = await create_campaign(
                session=session,
                spec=CampaignSpec("Birthday", Trigger.BIRTHDAY, now, arms(), trigger_days=3),
                actor="bench",
                now=now,
            )
            await start_campaign(session=session, campaign_id=birthday.id, now=now)
        await timed(sessions, "BIRTHDAY 3 days out (campaigns, assigned)", evaluate)

        def next_year(session):  # type: ignore[no-untyped-def]
            later = now + timedelta(days=365)
            return evaluate_campaigns(session, now=later, zone="Asia/Shanghai", ledger=ledger)

        # The same birthdays a year on: a new occurrence each, assigned again.
        await timed(sessions, "BIRTHDAY a year later (campaigns, assigned)", next_year)

        async def report(session) -> str:  # type: ignore[no-untyped-def]
            found = await campaign_report(session.execute, once.id, 14)
            return ", ".join(f"{a.name} {a.members:,}/{a.converted:,}" for a in found.arms)

        await timed(sessions, "report (arm members/converted)", report)
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    args = parser.parse_args()
    asyncio.run(run(args.members))


if __name__ == "__main__":
    main()

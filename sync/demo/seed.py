"""Seeding a demo programme: stores, then people enrolling, shopping and engaging, then
what the scheduled jobs would have done by now."""

from __future__ import annotations

import asyncio
import random
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.expiry import expire_lots, settle_pending
from sync.demo.people import HISTORY_DAYS, STORES, DemoMember, DemoSummary, plan_members
from sync.demo.writer import DemoWriter, demo_clock
from sync.intelligence.refresh import Programme, refresh_member_intelligence
from sync.purchases.requests import IngestConfig
from sync.stores import save_store

#: ``progress(step, done, total)``: called as the demo is written, for a caller to show.
Progress = Callable[[str, int, int], None]


def no_progress(step: str, done: int, total: int) -> None:
    pass


async def seed_people(
    writer: DemoWriter,
    people: list[DemoMember],
    *,
    now: datetime,
    workers: int = 4,
    progress: Progress = no_progress,
) -> None:
    """Enrol everyone (in enrolment order per worker), then let them engage."""
    queue: asyncio.Queue[DemoMember] = asyncio.Queue()
    for person in people:
        queue.put_nowait(person)
    done = 0
    progress("members", done, len(people))

    async def work() -> None:
        nonlocal done
        while not queue.empty():
            person = queue.get_nowait()
            referrer = None
            if writer.member_ids and writer.rng.random() < 0.05:
                referrer = writer.rng.choice(list(writer.member_ids.values()))
            await writer.enrol(person, referrer=referrer)
            await writer.shop(person, until=now)
            await writer.engage(person, until=now)
            done += 1
            progress("members", done, len(people))

    await asyncio.gather(*(work() for _ in range(workers)))


def demo_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class DemoClock:
    """The hub's clock during seeding: the moment of the step being written."""

    def now(self) -> datetime:
        return demo_clock.get()


async def seed_demo(
    sessions: async_sessionmaker[AsyncSession],
    *,
    members: int,
    ingest_config: IngestConfig,
    intelligence: Programme | None = None,
    random_seed: int = 7,
    now: datetime | None = None,
    progress: Progress = no_progress,
) -> DemoSummary:
    """Write a demo programme of ``members`` people; the same seed writes the same story."""
    now = now or demo_now()
    rng = random.Random(random_seed)
    writer = DemoWriter(sessions, ingest_config=ingest_config, rng=rng)
    progress("stores", 0, 1)
    for store_id, name, city in STORES:
        await writer.at(
            now,
            lambda s, i=store_id, n=name, c=city: save_store(
                s,
                store_id=i,
                name=n,
                city=c,
                time_zone=None,
                now=now - timedelta(days=HISTORY_DAYS),
            ),
        )
    await seed_people(writer, plan_members(members, now=now, rng=rng), now=now, progress=progress)
    ledger_config = ingest_config.ledger
    progress("settlement and expiry", 0, 1)
    # What the hourly and daily jobs would have done by now.
    settled = await writer.at(
        now, lambda s: settle_pending(session=s, now=now, config=ledger_config)
    )
    expired = await writer.at(now, lambda s: expire_lots(session=s, now=now, config=ledger_config))
    writer.summary.extra.update({"settlements": settled, "expiries": expired})
    if intelligence is not None:
        progress("RFM, lifecycle and tags", 0, 1)
        report = await writer.at(
            now, lambda s: refresh_member_intelligence(s, now=now, programme=intelligence)
        )
        writer.summary.extra["members scored by RFM"] = report.scored_members
    return writer.summary

"""The programme's periodic work, registered with the scheduler (``sync.jobs.schedule``).

Each job runs in one transaction that first takes an advisory lock named after the job, so
two runs of one job (a retried message, two schedulers' overlap, a manual run) never
interleave: the second starts after the first committed and finds nothing left to do.
Times: daily jobs run early in the morning in the programme's zone (Asia/Shanghai).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from ledger.benefits.lifecycle import expire_coupons
from ledger.expiry import expire_lots, settle_pending
from ledger.idempotency import purge_idempotency_keys
from ledger.model import LedgerConfig
from ledger.reminders import send_expiry_reminders
from sync.behaviour.partitions import maintain_partitions
from sync.campaigns.assignment import evaluate_campaigns
from sync.campaigns.delivery import CampaignConfig, deliver_due_messages
from sync.intelligence.reevaluation import reevaluate_queued_members
from sync.intelligence.refresh import Programme, refresh_member_intelligence
from sync.jobs.schedule import JobFunction, register_job
from sync.tiers import TierProgramme, current_programme, review_tiers

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
#: Midnight in Shanghai is 16:00 UTC; periods are cut from the Unix epoch in UTC.
SHANGHAI_MIDNIGHT = timedelta(hours=16)


def shanghai(hours: int, minutes: int = 0) -> timedelta:
    """The daily offset of a Shanghai wall-clock time."""
    return (SHANGHAI_MIDNIGHT + timedelta(hours=hours, minutes=minutes)) % DAY


@dataclass(frozen=True)
class JobConfig:
    """The programme the jobs run with (the worker's own, set at start)."""

    ledger: LedgerConfig
    tiers: TierProgramme
    intelligence: Programme
    #: Days behaviour events are kept.
    event_retention_days: int = 180
    campaigns: CampaignConfig = field(default_factory=CampaignConfig)


#: Set by ``register_jobs``; the job functions stay the same objects however often it runs.
_config: dict[str, JobConfig] = {}

Work = Callable[[AsyncSession, datetime, JobConfig], Awaitable[Any]]


def _job(name: str, work: Work) -> JobFunction:
    async def run(*, session: AsyncSession, now: datetime) -> Any:
        await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})
        return await work(session, now, _config["current"])

    run.__name__ = name.replace(".", "_")
    return run


async def _review_tiers(session: AsyncSession, now: datetime, defaults: TierProgramme) -> int:
    """Reviews by the stored ladder, as it stands when the review runs."""
    return await review_tiers(
        session, now=now, programme=await current_programme(session, defaults)
    )


settle_job = _job(
    "ledger.settle", lambda s, now, c: settle_pending(session=s, now=now, config=c.ledger)
)
expire_job = _job(
    "ledger.expire", lambda s, now, c: expire_lots(session=s, now=now, config=c.ledger)
)
remind_job = _job("ledger.remind", lambda s, now, c: send_expiry_reminders(session=s, now=now))
purge_keys_job = _job("ledger.purge_keys", lambda s, now, c: purge_idempotency_keys(s, now=now))
review_tiers_job = _job(
    "tiers.review",
    lambda s, now, c: _review_tiers(s, now, c.tiers),
)
refresh_intelligence_job = _job(
    "intelligence.refresh",
    lambda s, now, c: refresh_member_intelligence(s, now=now, programme=c.intelligence),
)
reevaluate_job = _job(
    "intelligence.reevaluate",
    lambda s, now, c: reevaluate_queued_members(s, now=now, programme=c.intelligence),
)
event_partitions_job = _job(
    "events.partitions",
    lambda s, now, c: maintain_partitions(s, now=now, retention_days=c.event_retention_days),
)
expire_coupons_job = _job("coupons.expire", lambda s, now, c: expire_coupons(session=s, now=now))

evaluate_campaigns_job = _job(
    "campaigns.evaluate",
    lambda s, now, c: evaluate_campaigns(s, now=now, zone=c.campaigns.zone, ledger=c.ledger),
)


async def _deliver(session: AsyncSession, now: datetime, config: JobConfig) -> Any:
    # One transaction per message (see sync.campaigns.delivery), on sessions of their own;
    # the job's own transaction only holds the job's lock meanwhile.
    factory = async_sessionmaker(session.bind, expire_on_commit=False, info=session.info)
    return await deliver_due_messages(factory, now=now, config=config.campaigns)


deliver_campaigns_job = _job("campaigns.deliver", _deliver)

#: (job, name, period, offset): what runs when.
SCHEDULE = (
    (settle_job, "ledger.settle", HOUR, timedelta(minutes=5)),
    (expire_job, "ledger.expire", DAY, shanghai(0, 10)),
    (remind_job, "ledger.remind", DAY, shanghai(9)),
    # Hourly: a coupon that ran out shows EXPIRED at once anyway; this records it.
    (expire_coupons_job, "coupons.expire", HOUR, timedelta(minutes=20)),
    (review_tiers_job, "tiers.review", DAY, shanghai(2)),
    (purge_keys_job, "ledger.purge_keys", DAY, shanghai(3)),
    (refresh_intelligence_job, "intelligence.refresh", DAY, shanghai(3, 30)),
    # Often: a triggered campaign on entering a segment reacts within a minute of a purchase.
    (reevaluate_job, "intelligence.reevaluate", timedelta(seconds=10), timedelta(0)),
    # Hourly, so a new UTC day's partition always exists before its first event.
    (event_partitions_job, "events.partitions", HOUR, timedelta(minutes=40)),
    # After the refresh, so members who just entered a segment are assigned the same morning.
    (evaluate_campaigns_job, "campaigns.evaluate", HOUR, timedelta(minutes=40)),
    (deliver_campaigns_job, "campaigns.deliver", timedelta(minutes=1), timedelta(0)),
)


def register_jobs(config: JobConfig) -> None:
    """Register every periodic job (again is a no-op) with the programme they run with."""
    _config["current"] = config
    for run, name, every, offset in SCHEDULE:
        register_job(name, every=every, run=run, offset=offset)

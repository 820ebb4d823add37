"""The programme's periodic work, registered with the scheduler (``sync.schedule``).

Each job runs in one transaction that first takes an advisory lock named after the job, so
two runs of one job (a retried message, two schedulers' overlap, a manual run) never
interleave: the second starts after the first committed and finds nothing left to do.
Times: daily jobs run early in the morning in the programme's zone (Asia/Shanghai).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from hub.settings import Settings
from ledger.expiry import expire_lots, settle_pending
from ledger.idempotency import purge_idempotency_keys
from ledger.reminders import send_expiry_reminders
from sync.intelligence.refresh import refresh_member_intelligence
from sync.schedule import register_job
from sync.tiers import review_tiers

HOUR = timedelta(hours=1)
DAY = timedelta(days=1)
#: Midnight in Shanghai is 16:00 UTC; periods are cut from the Unix epoch in UTC.
SHANGHAI_MIDNIGHT = timedelta(hours=16)


def shanghai(hours: int, minutes: int = 0) -> timedelta:
    """The daily offset of a Shanghai wall-clock time."""
    return (SHANGHAI_MIDNIGHT + timedelta(hours=hours, minutes=minutes)) % DAY


#: The settings the jobs run with (the worker's own, set at start by ``register_jobs``).
_settings: dict[str, Settings] = {}


def _current() -> Settings:
    return _settings.get("current") or Settings()


async def _serialised(session: AsyncSession, name: str) -> None:
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext(:name))"), {"name": name})


def _job(name: str, work: Callable[[AsyncSession, datetime, Settings], Awaitable[Any]]):  # type: ignore[no-untyped-def]
    async def run(*, session: AsyncSession, now: datetime) -> Any:
        await _serialised(session, name)
        return await work(session, now, _current())

    run.__name__ = name.replace(".", "_")
    return run


def _ledger(settings: Settings):  # type: ignore[no-untyped-def]
    from hub.wiring import ledger_config

    return ledger_config(settings)


def _tiers(settings: Settings):  # type: ignore[no-untyped-def]
    from hub.wiring import tier_programme

    return tier_programme(settings)


settle_job = _job(
    "ledger.settle", lambda s, now, cfg: settle_pending(session=s, now=now, config=_ledger(cfg))
)
expire_job = _job(
    "ledger.expire", lambda s, now, cfg: expire_lots(session=s, now=now, config=_ledger(cfg))
)
remind_job = _job("ledger.remind", lambda s, now, cfg: send_expiry_reminders(session=s, now=now))
purge_keys_job = _job("ledger.purge_keys", lambda s, now, cfg: purge_idempotency_keys(s, now=now))


def _intelligence(settings: Settings):  # type: ignore[no-untyped-def]
    from hub.wiring import intelligence_programme

    return intelligence_programme(settings)


refresh_intelligence_job = _job(
    "intelligence.refresh",
    lambda s, now, cfg: refresh_member_intelligence(s, now=now, programme=_intelligence(cfg)),
)
review_tiers_job = _job(
    "tiers.review", lambda s, now, cfg: review_tiers(s, now=now, programme=_tiers(cfg))
)

#: (job, period, offset): what runs when.
SCHEDULE = (
    (settle_job, "ledger.settle", HOUR, timedelta(minutes=5)),
    (expire_job, "ledger.expire", DAY, shanghai(0, 10)),
    (remind_job, "ledger.remind", DAY, shanghai(9)),
    (review_tiers_job, "tiers.review", DAY, shanghai(2)),
    (purge_keys_job, "ledger.purge_keys", DAY, shanghai(3)),
    (refresh_intelligence_job, "intelligence.refresh", DAY, shanghai(3, 30)),
)


def register_jobs(settings: Settings) -> None:
    """Register every periodic job (again is a no-op) with the settings they run with."""
    _settings["current"] = settings
    for run, name, every, offset in SCHEDULE:
        register_job(name, every=every, run=run, offset=offset)

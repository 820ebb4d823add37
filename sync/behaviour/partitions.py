"""Day partitions of ``behaviour_events``: created ahead (and on demand for a day the
ingest path meets first), dropped whole once past the retention.

Partitions are named ``behaviour_events_pYYYYMMDD`` and cover one UTC day. Creating one
takes a lock on the parent table, so it runs under an advisory lock (two creators of the
same day would otherwise race on the catalog) and is skipped for days known to exist.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from datetime import UTC, date, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

PARENT = "behaviour_events"
NAME = re.compile(r"^behaviour_events_p(\d{8})$")
#: Days created ahead of today by the job, so the ingest path rarely creates one itself.
DAYS_AHEAD = 3

#: Days this process has seen exist. A day is only dropped once it is past the retention,
#: and the ingest path refuses such events before it looks here.
_known: set[date] = set()


def partition_name(day: date) -> str:
    return f"{PARENT}_p{day:%Y%m%d}"


def day_of(moment: datetime) -> date:
    return moment.astimezone(UTC).date()


async def ensure_partitions(session: AsyncSession, days: Iterable[date]) -> int:
    """Create the partitions of ``days`` that do not exist yet; answer how many were made."""
    missing = sorted(set(days) - _known)
    if not missing:
        return 0
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('behaviour_events.ddl'))"))
    existing = set(
        (
            await session.execute(
                text(
                    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                    " WHERE i.inhparent = CAST(:parent AS regclass)"
                ),
                {"parent": PARENT},
            )
        ).scalars()
    )
    made = 0
    for day in missing:
        name = partition_name(day)
        if name in existing:
            # Only days seen committed are remembered: a partition created here is rolled
            # back with a failed transaction.
            _known.add(day)
        else:
            start = datetime(day.year, day.month, day.day, tzinfo=UTC)
            # Names and bounds come from a date, never from input.
            await session.execute(
                text(
                    f"CREATE TABLE {name} PARTITION OF {PARENT}"
                    f" FOR VALUES FROM ('{start.isoformat()}')"
                    f" TO ('{(start + timedelta(days=1)).isoformat()}')"
                )
            )
            made += 1
    return made


def forget_known_partitions() -> None:
    """Let the next ingest check the catalog again (after partitions were dropped)."""
    _known.clear()


async def drop_expired_partitions(
    session: AsyncSession, *, now: datetime, retention_days: int
) -> list[str]:
    """Drop the partitions whose whole day lies before ``now - retention_days``."""
    await session.execute(text("SELECT pg_advisory_xact_lock(hashtext('behaviour_events.ddl'))"))
    cutoff = day_of(now - timedelta(days=retention_days))
    names = (
        await session.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = CAST(:parent AS regclass) ORDER BY c.relname"
            ),
            {"parent": PARENT},
        )
    ).scalars()
    dropped = []
    for name in names:
        match = NAME.match(name)
        if match and datetime.strptime(match.group(1), "%Y%m%d").date() < cutoff:
            await session.execute(text(f"DROP TABLE {name}"))
            dropped.append(name)
    if dropped:
        forget_known_partitions()
    return dropped


async def maintain_partitions(
    session: AsyncSession, *, now: datetime, retention_days: int
) -> dict[str, int]:
    """The ``events.partitions`` job: drop what is past the retention, create days ahead."""
    dropped = await drop_expired_partitions(session, now=now, retention_days=retention_days)
    today = day_of(now)
    created = await ensure_partitions(
        session, (today + timedelta(days=n) for n in range(DAYS_AHEAD + 1))
    )
    return {"dropped": len(dropped), "created": created}

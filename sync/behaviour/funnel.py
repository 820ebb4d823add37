"""The funnel: how many members went view -> add to cart -> purchase (or any ordered subset
of those steps) in a period, in one statement.

Each member enters at their first step-one event in the period; every later step counts
the members who did it at or after their previous step and within ``within_days`` of
entering. Steps after the first may fall after the period's end (within the window).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

MAX_PERIOD_DAYS = 366
MAX_WITHIN_DAYS = 365


class FunnelStepKind(enum.StrEnum):
    VIEW_PRODUCT = "VIEW_PRODUCT"
    ADD_TO_CART = "ADD_TO_CART"
    PURCHASE = "PURCHASE"


#: Each step's rows as (member_id, at); fixed text, never input.
_SOURCES = {
    FunnelStepKind.VIEW_PRODUCT: "SELECT member_id, occurred_at AS at FROM behaviour_events"
    " WHERE kind = 'VIEW_PRODUCT'",
    FunnelStepKind.ADD_TO_CART: "SELECT member_id, occurred_at AS at FROM behaviour_events"
    " WHERE kind = 'ADD_TO_CART'",
    FunnelStepKind.PURCHASE: "SELECT member_id, occurred_at AS at FROM purchases"
    " WHERE status <> 'REJECTED' AND member_id IS NOT NULL",
}


class FunnelError(ValueError):
    code = "INVALID_INPUT"

    def __init__(self, message: str, *, field: Sequence[str]) -> None:
        super().__init__(message)
        self.field = tuple(field)


@dataclass(frozen=True)
class FunnelCount:
    step: FunnelStepKind
    members: int
    #: members / the previous step's members; None for the first step (or after none).
    conversion: float | None


def check_funnel(steps: Sequence[FunnelStepKind], start: date, end: date, within_days: int) -> None:
    if not steps:
        raise FunnelError("give at least one step", field=("steps",))
    if len(set(steps)) != len(steps):
        raise FunnelError("each step at most once", field=("steps",))
    if end < start:
        raise FunnelError("`to` is before `from`", field=("to",))
    if (end - start).days >= MAX_PERIOD_DAYS:
        raise FunnelError(f"a period spans at most {MAX_PERIOD_DAYS} days", field=("to",))
    if not 1 <= within_days <= MAX_WITHIN_DAYS:
        raise FunnelError(f"withinDays is 1 to {MAX_WITHIN_DAYS}", field=("withinDays",))


async def count_funnel(
    session: AsyncSession,
    *,
    steps: Sequence[FunnelStepKind],
    start: date,
    end: date,
    within_days: int,
    time_zone: str,
    segment_id: int | None = None,
) -> list[FunnelCount]:
    """Members per step over the days [start, end] of ``time_zone``; ``check_funnel`` first."""
    check_funnel(steps, start, end, within_days)
    zone = ZoneInfo(time_zone)
    params: dict[str, object] = {
        "from_at": datetime.combine(start, time(), zone),
        "to_at": datetime.combine(end + timedelta(days=1), time(), zone),
        "window": timedelta(days=within_days),
        "segment_id": segment_id,
    }
    in_segment = (
        ""
        if segment_id is None
        else " AND src.member_id IN (SELECT member_id FROM segment_members"
        " WHERE segment_id = :segment_id)"
    )
    ctes = [
        f"s0 AS (SELECT src.member_id, min(src.at) AS start, min(src.at) AS at"
        f" FROM ({_SOURCES[steps[0]]}) src WHERE src.at >= :from_at AND src.at < :to_at"
        f"{in_segment} GROUP BY src.member_id)"
    ]
    for n, step in enumerate(steps[1:], start=1):
        ctes.append(
            f"s{n} AS (SELECT prev.member_id, prev.start, min(src.at) AS at"
            f" FROM s{n - 1} prev JOIN ({_SOURCES[step]}) src ON src.member_id = prev.member_id"
            " AND src.at >= prev.at AND src.at <= prev.start + CAST(:window AS interval)"
            " GROUP BY prev.member_id, prev.start)"
        )
    counts = ", ".join(f"(SELECT count(*) FROM s{n}) AS c{n}" for n in range(len(steps)))
    row = (await session.execute(text(f"WITH {', '.join(ctes)} SELECT {counts}"), params)).one()
    found: list[FunnelCount] = []
    previous: int | None = None
    for n, step in enumerate(steps):
        members = int(row[n])
        conversion = None if previous is None or previous == 0 else members / previous
        found.append(FunnelCount(step, members, conversion))
        previous = members
    return found

"""Daily check-in: a few points once per business day, across every channel.

The CHECKIN_DAILY rule refuses a second check-in of a business day (in the programme's time
zone) with ALREADY_CHECKED_IN; the primary key (member, business day) of
``points_checkins`` is the last word.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import exists, insert, select
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.checks import CheckResult, FraudOutcome, Posting, checks
from ledger.model import Bucket, Channel, EntryKind, EntryRequest, LedgerConfig, business_day
from ledger.posting import PostingResult, post_entries
from ledger.requests import idempotency_key
from ledger.tables import points_checkins

OPERATION = "check_in"


async def checkin_daily(session: AsyncSession, posting: Posting) -> CheckResult | None:
    day = posting.attributes["business_day"]
    member_id = posting.entries[0].member_id
    done = await session.scalar(
        select(
            exists().where(
                points_checkins.c.member_id == member_id, points_checkins.c.business_day == day
            )
        )
    )
    if not done:
        return None
    return CheckResult(
        FraudOutcome.REJECTED,
        "CHECKIN_DAILY",
        f"already checked in on {day.isoformat()}",
        error_code="ALREADY_CHECKED_IN",
    )


checks.register("CHECKIN_DAILY", checkin_daily, operations=[OPERATION])


async def check_in(
    *,
    session: AsyncSession,
    member_id: int,
    channel: Channel,
    key_scope: str,
    key: str,
    now: datetime,
    config: LedgerConfig,
) -> PostingResult:
    day = business_day(now, config.zone)
    request = EntryRequest(
        member_id=member_id,
        kind=EntryKind.BONUS,
        bucket=Bucket.AVAILABLE,
        amount=config.checkin_points,
        channel=channel,
        reference=f"check-in {day.isoformat()}",
    )
    result = await post_entries(
        session=session,
        requests=[request],
        now=now,
        config=config,
        operation=OPERATION,
        # The day is not part of the request: a retry tomorrow still answers today's result.
        idempotency=idempotency_key(
            key_scope,
            key,
            {"operation": OPERATION, "member_id": member_id, "channel": channel.value},
        ),
        attributes={"business_day": day},
    )
    if result.entry is not None and not result.replayed:
        await session.execute(
            insert(points_checkins).values(
                member_id=member_id,
                business_day=day,
                entry_id=result.entry.id,
                channel=channel.value,
                created_at=now,
            )
        )
    return result

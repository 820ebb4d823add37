"""Segments that move with purchases: the members queued in ``member_reevaluations`` (by
triggers on the domain events that can move them: a purchase, a refund, a merge, a profile
change) have their rule tags and segments re-evaluated by the ``intelligence.reevaluate``
job, every few seconds, without waiting for the nightly refresh.

One run takes a batch of queued members and runs each segment's and tag's statement once
for the whole batch, scoped to those members (``compile_rule(only=...)`` reads only their
rows); entering and leaving write ``segment.entered`` / ``segment.exited`` to the outbox as
the nightly refresh does. RFM and lifecycle stay nightly: they rank members against each
other, so one member's purchase cannot move them alone.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from sync.intelligence.refresh import Programme, refresh_segments, refresh_tags

#: Members of one run; the rest wait for the next run, a few seconds later.
BATCH = 5_000

_TAKE = text(
    "DELETE FROM member_reevaluations WHERE member_id IN (SELECT member_id"
    " FROM member_reevaluations ORDER BY queued_at, member_id LIMIT :batch"
    " FOR UPDATE SKIP LOCKED) RETURNING member_id"
)


async def reevaluate_queued_members(
    session: AsyncSession, *, now: datetime, programme: Programme, batch: int = BATCH
) -> int:
    """Re-evaluate up to ``batch`` queued members in the caller's transaction (a rollback
    puts them back in the queue); answer how many."""
    # The nightly refresh rewrites the same memberships and re-evaluates everyone anyway:
    # while it runs, leave the queue to the next run rather than pile up waiting runs.
    locked = await session.scalar(
        text("SELECT pg_try_advisory_xact_lock(hashtext('intelligence.refresh'))")
    )
    if not locked:
        return 0
    member_ids = sorted((await session.execute(_TAKE, {"batch": batch})).scalars().all())
    if not member_ids:
        return 0
    await refresh_tags(session, now=now, programme=programme, only=member_ids)
    await refresh_segments(session, now=now, programme=programme, only=member_ids)
    return len(member_ids)

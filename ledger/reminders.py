"""Expiry reminders: a ``points.expiring`` event per lot as it comes within 30, 15, 7 and 3
days of lapsing, each threshold at most once.

One statement finds every open lot that has crossed a threshold not yet recorded and
records it (the primary key makes a second run, or a concurrent one, record nothing); the
events go to the outbox together, in one INSERT. When
a late run finds a lot past several thresholds at once, all are recorded and one event
goes out, for the nearest: a member hears once, with the most urgent figure.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import DomainEvent, publish_many

THRESHOLDS = (30, 15, 7, 3)


@dataclass(frozen=True, kw_only=True)
class PointsExpiring(DomainEvent):
    event_type = "points.expiring"
    entry_id: int
    points: int
    expires_at: datetime
    days_left: int


async def send_expiry_reminders(
    *, session: AsyncSession, now: datetime, thresholds: Sequence[int] = THRESHOLDS
) -> int:
    """Record and announce the reminders due at ``now``; answers how many events went out."""
    rows = await session.execute(
        text(
            "WITH due AS ("
            "  INSERT INTO points_expiry_reminders (member_id, entry_id, days, sent_at)"
            "  SELECT l.member_id, l.entry_id, t.days, :now"
            "  FROM points_lots l CROSS JOIN unnest(CAST(:thresholds AS int[])) AS t(days)"
            "  WHERE l.bucket = 'AVAILABLE' AND l.remaining > 0 AND l.expires_at > :now"
            "   AND l.expires_at <= :now + make_interval(days => t.days)"
            "  ON CONFLICT DO NOTHING RETURNING member_id, entry_id, days)"
            " SELECT d.member_id, d.entry_id, min(d.days) AS days, l.remaining, l.expires_at"
            " FROM due d JOIN points_lots l USING (member_id, entry_id)"
            " GROUP BY d.member_id, d.entry_id, l.remaining, l.expires_at"
            " ORDER BY d.member_id, d.entry_id"
        ),
        {"now": now, "thresholds": list(thresholds)},
    )
    due = rows.all()
    await publish_many(
        session,
        [
            PointsExpiring(
                member_id=row.member_id,
                entry_id=row.entry_id,
                points=row.remaining,
                expires_at=row.expires_at,
                days_left=row.days,
            )
            for row in due
        ],
    )
    return len(due)

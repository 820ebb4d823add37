"""RFM scores and classes, and lifecycle stages, for every member in one statement each.

RFM scores members with a purchase in the window (net of refunds: wholly refunded purchases
do not count, partly refunded ones count what was kept). Quintile scores are
``ceil(5 * cume_dist())``, so equal values share a score (5 best: fewest days since the last
purchase, most purchases, most spend). The class compares each raw value with the mean of
the scored members: recency below the mean is "recent", frequency and monetary above it
are "frequent" and "high spend".
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class IntelligenceConfig:
    rfm_window_days: int = 365
    new_days: int = 30
    active_days: int = 90
    dormant_days: int = 180


_RFM = text(
    """
    WITH kept AS (
        SELECT p.member_id, p.occurred_at, p.amount - p.refunded_amount AS spend
        FROM purchases p JOIN members m ON m.id = p.member_id AND m.status = 'ACTIVE'
        WHERE p.status NOT IN ('REJECTED', 'REFUNDED')
          AND p.occurred_at > CAST(:start AS timestamptz)
          AND p.occurred_at <= CAST(:now AS timestamptz)
    ),
    raw AS (
        SELECT member_id,
               floor(extract(epoch FROM (CAST(:now AS timestamptz) - max(occurred_at)))
                     / 86400)::int AS recency,
               count(*)::int AS frequency,
               sum(spend) AS monetary
        FROM kept GROUP BY member_id
    ),
    scored AS (
        SELECT raw.*,
               ceil(5 * cume_dist() OVER (ORDER BY recency DESC))::int AS r,
               ceil(5 * cume_dist() OVER (ORDER BY frequency))::int AS f,
               ceil(5 * cume_dist() OVER (ORDER BY monetary))::int AS m,
               recency < avg(recency) OVER () AS recent,
               frequency > avg(frequency) OVER () AS frequent,
               monetary > avg(monetary) OVER () AS valuable
        FROM raw
    )
    INSERT INTO member_rfm (member_id, recency_days, frequency, monetary, r_score, f_score,
                            m_score, segment, computed_at)
    SELECT member_id, recency, frequency, monetary, r, f, m,
           CASE WHEN valuable THEN 'IMPORTANT_' ELSE 'GENERAL_' END
           || CASE WHEN recent AND frequent THEN 'VALUE'
                   WHEN recent THEN 'DEVELOP'
                   WHEN frequent THEN 'KEEP'
                   ELSE 'RETAIN' END,
           CAST(:now AS timestamptz)
    FROM scored
    """
)

_LIFECYCLE = text(
    """
    WITH bought AS (
        SELECT member_id, min(occurred_at) AS first_at, max(occurred_at) AS last_at
        FROM purchases
        WHERE status NOT IN ('REJECTED', 'REFUNDED') AND occurred_at <= CAST(:now AS timestamptz)
        GROUP BY member_id
    )
    INSERT INTO member_lifecycle (member_id, stage, computed_at)
    SELECT m.id,
           CASE WHEN b.member_id IS NULL THEN 'PROSPECT'
                WHEN b.first_at > CAST(:now AS timestamptz) - CAST(:new_days AS interval)
                     THEN 'NEW'
                WHEN b.last_at > CAST(:now AS timestamptz) - CAST(:active_days AS interval)
                     THEN 'ACTIVE'
                WHEN b.last_at > CAST(:now AS timestamptz) - CAST(:dormant_days AS interval)
                     THEN 'DORMANT'
                ELSE 'CHURNED' END,
           CAST(:now AS timestamptz)
    FROM members m LEFT JOIN bought b ON b.member_id = m.id
    WHERE m.status = 'ACTIVE'
    """
)


async def refresh_rfm(session: AsyncSession, *, now: datetime, config: IntelligenceConfig) -> int:
    """Recompute every member's RFM row; answers how many members were scored."""
    await session.execute(text("DELETE FROM member_rfm"))
    result = await session.execute(
        _RFM, {"now": now, "start": now - timedelta(days=config.rfm_window_days)}
    )
    return result.rowcount or 0


async def refresh_lifecycle(
    session: AsyncSession, *, now: datetime, config: IntelligenceConfig
) -> int:
    await session.execute(text("DELETE FROM member_lifecycle"))
    result = await session.execute(
        _LIFECYCLE,
        {
            "now": now,
            "new_days": timedelta(days=config.new_days),
            "active_days": timedelta(days=config.active_days),
            "dormant_days": timedelta(days=config.dormant_days),
        },
    )
    return result.rowcount or 0


def lifecycle_of(
    first_at: datetime | None,
    last_at: datetime | None,
    *,
    now: datetime,
    config: IntelligenceConfig,
) -> str:
    """The same stages for one member, from its first and last purchase (live reads)."""
    if first_at is None or last_at is None:
        return "PROSPECT"
    if first_at > now - timedelta(days=config.new_days):
        return "NEW"
    if last_at > now - timedelta(days=config.active_days):
        return "ACTIVE"
    if last_at > now - timedelta(days=config.dormant_days):
        return "DORMANT"
    return "CHURNED"

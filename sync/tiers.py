"""Tiers: earned by spend over a rolling window; upgrades at once, downgrades at review.

A member's tier history lives in ``member_tiers`` (one open row per member; none means the
lowest tier), so the tier at any past moment, which prices a late purchase, is a lookup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from identity.hooks import DomainEvent, hooks
from ledger.model import add_months

Execute = Callable[..., Awaitable[Any]]

#: Purchases whose spend counts: recorded and not rejected or held (a held purchase counts
#: once its review approves it).
COUNTED = "('COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED')"


@dataclass(frozen=True)
class TierDefinition:
    code: str
    name: str
    qualifying_spend: Decimal
    multiplier: Decimal


def _default_tiers() -> tuple[TierDefinition, ...]:
    return (
        TierDefinition("REGULAR", "Regular", Decimal(0), Decimal(1)),
        TierDefinition("SILVER", "Silver", Decimal(1_000), Decimal("1.2")),
        TierDefinition("GOLD", "Gold", Decimal(5_000), Decimal("1.5")),
        TierDefinition("DIAMOND", "Diamond", Decimal(20_000), Decimal(2)),
    )


@dataclass(frozen=True)
class TierProgramme:
    #: Lowest first; the first needs no spend.
    tiers: tuple[TierDefinition, ...] = field(default_factory=_default_tiers)
    window_months: int = 12

    def rank(self, code: str) -> int:
        return next((i for i, t in enumerate(self.tiers) if t.code == code), 0)

    def get(self, code: str | None) -> TierDefinition:
        return self.tiers[self.rank(code)] if code else self.tiers[0]

    def qualifying(self, spend: Decimal) -> TierDefinition:
        return [t for t in self.tiers if t.qualifying_spend <= spend][-1]

    def next_after(self, code: str) -> TierDefinition | None:
        rank = self.rank(code)
        return self.tiers[rank + 1] if rank + 1 < len(self.tiers) else None


@dataclass(frozen=True, kw_only=True)
class TierChanged(DomainEvent):
    event_type = "tier.changed"
    previous: str
    current: str
    reason: str
    spend: Decimal
    at: datetime


@dataclass(frozen=True)
class MemberTier:
    member_id: int
    code: str
    since: datetime | None


async def window_spend(
    session: AsyncSession, member_id: int, *, at: datetime, programme: TierProgramme
) -> Decimal:
    """Spend net of refunds over the qualifying window ending at ``at``."""
    start = add_months(at, -programme.window_months)
    return (await load_window_spend(session.execute, [(member_id, start, at)]))[0]


async def tier_at(session: AsyncSession, member_id: int, at: datetime) -> str | None:
    """The member's tier code at ``at``; None before any tier row (the lowest tier)."""
    return await session.scalar(
        text(
            "SELECT tier_code FROM member_tiers WHERE member_id = :member AND since <= :at"
            " AND (until IS NULL OR until > :at) ORDER BY since DESC LIMIT 1"
        ),
        {"member": member_id, "at": at},
    )


async def _change(
    session: AsyncSession,
    *,
    member_id: int,
    previous: str,
    current: str,
    reason: str,
    spend: Decimal,
    now: datetime,
) -> None:
    await session.execute(
        text("UPDATE member_tiers SET until = :now WHERE member_id = :member AND until IS NULL"),
        {"member": member_id, "now": now},
    )
    await session.execute(
        text(
            "INSERT INTO member_tiers (member_id, tier_code, since, reason)"
            " VALUES (:member, :code, :now, :reason)"
        ),
        {"member": member_id, "code": current, "now": now, "reason": reason},
    )
    await hooks.publish(
        session,
        TierChanged(
            member_id=member_id,
            previous=previous,
            current=current,
            reason=reason,
            spend=spend,
            at=now,
        ),
    )


async def upgrade_after_purchase(
    session: AsyncSession, member_id: int, *, now: datetime, programme: TierProgramme
) -> str | None:
    """Upgrade when the spend up to now qualifies for a higher tier (never downgrades);
    answers the new code, or None when unchanged. The caller holds the member's lock."""
    current = await session.execute(
        text(
            "SELECT tier_code, since FROM member_tiers WHERE member_id = :member AND until IS NULL"
        ),
        {"member": member_id},
    )
    row = current.one_or_none()
    code = row.tier_code if row else programme.tiers[0].code
    spend = await window_spend(session, member_id, at=now, programme=programme)
    target = programme.qualifying(spend)
    if programme.rank(target.code) <= programme.rank(code):
        return None
    if row is not None and row.since >= now:
        # Two upgrades at one instant: the later one replaces the first.
        await session.execute(
            text(
                "UPDATE member_tiers SET tier_code = :code WHERE member_id = :m AND until IS NULL"
            ),
            {"code": target.code, "m": member_id},
        )
    else:
        await _change(
            session,
            member_id=member_id,
            previous=code,
            current=target.code,
            reason="UPGRADE",
            spend=spend,
            now=now,
        )
    return target.code


async def review_tiers(session: AsyncSession, *, now: datetime, programme: TierProgramme) -> int:
    """Set every ACTIVE member's tier to what the window's spend qualifies for (downgrades
    happen only here), with a ``tier.changed`` outbox event each. Answers how many changed."""
    thresholds = [(t.code, t.qualifying_spend, i) for i, t in enumerate(programme.tiers)]
    cases = " ".join(
        f"WHEN s.spend >= :spend_{i} THEN :code_{i}" for _, _, i in reversed(thresholds)
    )
    parameters: dict[str, object] = {"start": add_months(now, -programme.window_months)}
    for code, spend, i in thresholds:
        parameters[f"spend_{i}"] = spend
        parameters[f"code_{i}"] = code
    parameters.update(now=now, lowest=programme.tiers[0].code)
    # Changes are found once into a scratch table, then closed, opened and announced set-based
    # (closing and opening in one statement would trip the one-current-tier index).
    await session.execute(text("DROP TABLE IF EXISTS tier_changes"))
    await session.execute(
        text(
            "CREATE TEMP TABLE tier_changes ON COMMIT DROP AS"
            " WITH spend AS ("
            "  SELECT m.id AS member_id, coalesce(sum(p.amount - p.refunded_amount), 0) AS spend"
            "  FROM members m LEFT JOIN purchases p ON p.member_id = m.id"
            f"   AND p.status IN {COUNTED} AND p.occurred_at > :start AND p.occurred_at <= :now"
            "  WHERE m.status = 'ACTIVE' GROUP BY m.id),"
            " target AS ("
            f"  SELECT s.member_id, s.spend, CASE {cases} ELSE :lowest END AS code FROM spend s)"
            " SELECT t.member_id, t.spend, t.code, coalesce(c.tier_code, :lowest) AS previous"
            " FROM target t LEFT JOIN member_tiers c"
            "  ON c.member_id = t.member_id AND c.until IS NULL"
            " WHERE t.code <> coalesce(c.tier_code, :lowest)"
        ),
        parameters,
    )
    await session.execute(
        text(
            "UPDATE member_tiers m SET until = :now FROM tier_changes c"
            " WHERE m.member_id = c.member_id AND m.until IS NULL"
        ),
        {"now": now},
    )
    changed = await session.scalar(
        text(
            "WITH opened AS (INSERT INTO member_tiers (member_id, tier_code, since, reason)"
            "  SELECT member_id, code, :now, 'REVIEW' FROM tier_changes RETURNING member_id),"
            " announced AS (INSERT INTO outbox_events"
            "  (event_id, event_type, version, member_id, payload, occurred_at)"
            "  SELECT gen_random_uuid(), 'tier.changed', 1, member_id, jsonb_build_object("
            "   'member_id', member_id, 'previous', previous, 'current', code,"
            "   'reason', 'REVIEW', 'spend', spend::text, 'at', CAST(:now AS timestamptz)),"
            "  now() FROM tier_changes)"
            " SELECT count(*) FROM opened"
        ),
        {"now": now},
    )
    return int(changed)


async def load_current_tiers(execute: Execute, member_ids: Sequence[int]) -> list[MemberTier]:
    rows = await execute(
        text(
            "SELECT member_id, tier_code, since FROM member_tiers"
            " WHERE member_id = ANY(:ids) AND until IS NULL"
        ),
        {"ids": list(member_ids)},
    )
    found = {row.member_id: MemberTier(row.member_id, row.tier_code, row.since) for row in rows}
    return [found.get(m, MemberTier(m, "", None)) for m in member_ids]


async def load_window_spend(
    execute: Execute, keys: Sequence[tuple[int, datetime, datetime]]
) -> list[Decimal]:
    """Spend per (member, window start, window end), for ``spendToNext`` of many members."""
    rows = await execute(
        text(
            "SELECT k.member_id, coalesce(sum(p.amount - p.refunded_amount), 0) AS spend"
            " FROM unnest(CAST(:members AS bigint[]), CAST(:starts AS timestamptz[]),"
            "  CAST(:ends AS timestamptz[])) AS k(member_id, start_at, end_at)"
            " LEFT JOIN purchases p ON p.member_id = k.member_id"
            f"  AND p.status IN {COUNTED}"
            "  AND p.occurred_at > k.start_at AND p.occurred_at <= k.end_at"
            " GROUP BY k.member_id"
        ),
        {
            "members": [k[0] for k in keys],
            "starts": [k[1] for k in keys],
            "ends": [k[2] for k in keys],
        },
    )
    found = {row.member_id: Decimal(row.spend) for row in rows}
    return [found.get(k[0], Decimal(0)) for k in keys]

"""Tiers: earned by spend over a rolling window; upgrades at once, downgrades at review.

A member's tier history lives in ``member_tiers`` (one open row per member; none means the
lowest tier), so the tier at any past moment, which prices a late purchase, is a lookup.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import DomainEvent, publish_many
from ledger.model import add_months
from ledger.promotion_rules import TierRule
from ledger.rule_store import stored_ladders

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
    #: Percent a member of the tier pays at the till (95 = 5% off); None for none.
    pay_percent: Decimal | None = None
    perks: tuple[str, ...] = ()


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
    _ranks: dict[str, int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        # Every member read ranks its tier; the first of a repeated code counts.
        ranks: dict[str, int] = {}
        for index, tier in enumerate(self.tiers):
            ranks.setdefault(tier.code, index)
        object.__setattr__(self, "_ranks", ranks)

    def rank(self, code: str) -> int:
        """The tier's position, lowest 0; an unknown code ranks as the lowest."""
        return self._ranks.get(code, 0)

    def get(self, code: str | None) -> TierDefinition:
        return self.tiers[self.rank(code)] if code else self.tiers[0]

    def qualifying(self, spend: Decimal) -> TierDefinition:
        return [t for t in self.tiers if t.qualifying_spend <= spend][-1]

    def next_after(self, code: str) -> TierDefinition | None:
        rank = self.rank(code)
        return self.tiers[rank + 1] if rank + 1 < len(self.tiers) else None


def programme_of(ladder: Sequence[TierRule], window_months: int) -> TierProgramme:
    """The programme of a stored ladder (``ledger.rule_store``)."""
    return TierProgramme(
        tiers=tuple(
            TierDefinition(t.code, t.name, t.threshold, t.multiplier, t.pay_percent, t.perks)
            for t in ladder
        ),
        window_months=window_months,
    )


async def current_programme(session: AsyncSession, defaults: TierProgramme) -> TierProgramme:
    """The stored ladder, or ``defaults`` (the settings') until one is defined."""
    (ladder,) = await stored_ladders(session.execute, [0])
    return programme_of(ladder, defaults.window_months) if ladder else defaults


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


async def tier_at(session: AsyncSession, member_id: int, at: datetime) -> str | None:
    """The member's tier code at ``at``; None before any tier row (the lowest tier)."""
    return (await tiers_at(session, [(member_id, at)]))[0]


async def tiers_at(
    session: AsyncSession, moments: Sequence[tuple[int, datetime]]
) -> list[str | None]:
    """``tier_at`` of many (member, moment) pairs in one query, in their order."""
    rows = await session.execute(
        text(
            "SELECT k.n, (SELECT t.tier_code FROM member_tiers t WHERE t.member_id = k.member_id"
            "  AND t.since <= k.at AND (t.until IS NULL OR t.until > k.at)"
            "  ORDER BY t.since DESC LIMIT 1) AS tier_code"
            " FROM unnest(CAST(:members AS bigint[]), CAST(:ats AS timestamptz[]))"
            " WITH ORDINALITY AS k(member_id, at, n)"
        ),
        {"members": [m for m, _ in moments], "ats": [at for _, at in moments]},
    )
    found = {row.n: row.tier_code for row in rows}
    return [found.get(n) for n in range(1, len(moments) + 1)]


#: Each member's current tier and spend in the window (start, now], in one statement.
_TIERS_AND_SPEND = text(
    "SELECT m.member_id, t.tier_code, t.since, coalesce(s.spend, 0) AS spend"
    " FROM unnest(CAST(:ids AS bigint[])) AS m(member_id)"
    " LEFT JOIN member_tiers t ON t.member_id = m.member_id AND t.until IS NULL"
    " LEFT JOIN LATERAL (SELECT sum(p.amount - p.refunded_amount) AS spend FROM purchases p"
    f"  WHERE p.member_id = m.member_id AND p.status IN {COUNTED}"
    "  AND p.occurred_at > :start AND p.occurred_at <= :now) AS s ON true"
    " ORDER BY m.member_id"
)


async def upgrade_after_purchases(
    session: AsyncSession, member_ids: Iterable[int], *, now: datetime, programme: TierProgramme
) -> dict[int, str]:
    """Upgrade each member whose spend up to now qualifies for a higher tier (never
    downgrades), with a ``tier.changed`` event each; answers the new codes by member. The
    caller holds the members' locks."""
    ids = sorted(set(member_ids))
    start = add_months(now, -programme.window_months)
    rows = await session.execute(_TIERS_AND_SPEND, {"ids": ids, "start": start, "now": now})
    lowest = programme.tiers[0].code
    opened: list[TierChanged] = []
    replaced: dict[int, str] = {}
    for row in rows:
        code, target = row.tier_code or lowest, programme.qualifying(row.spend)
        if programme.rank(target.code) <= programme.rank(code):
            continue
        if row.since is not None and row.since >= now:
            # Two upgrades at one instant: the later one replaces the first.
            replaced[row.member_id] = target.code
            continue
        opened.append(
            TierChanged(
                member_id=row.member_id,
                previous=code,
                current=target.code,
                reason="UPGRADE",
                spend=row.spend,
                at=now,
            )
        )
    if replaced:
        await session.execute(
            text(
                "UPDATE member_tiers t SET tier_code = v.code FROM unnest(CAST(:members AS"
                " bigint[]), CAST(:codes AS text[])) AS v(member_id, code)"
                " WHERE t.member_id = v.member_id AND t.until IS NULL"
            ),
            {"members": list(replaced), "codes": list(replaced.values())},
        )
    if opened:
        # Closing and opening in one statement would trip the one-current-tier index.
        await session.execute(
            text(
                "UPDATE member_tiers SET until = :now"
                " WHERE member_id = ANY(CAST(:members AS bigint[])) AND until IS NULL"
            ),
            {"members": [e.member_id for e in opened], "now": now},
        )
        await session.execute(
            text(
                "INSERT INTO member_tiers (member_id, tier_code, since, reason)"
                " SELECT member_id, code, :now, 'UPGRADE' FROM unnest(CAST(:members AS"
                " bigint[]), CAST(:codes AS text[])) AS v(member_id, code)"
            ),
            {
                "members": [e.member_id for e in opened],
                "codes": [e.current for e in opened],
                "now": now,
            },
        )
        await publish_many(session, opened)
    return {**replaced, **{e.member_id: e.current for e in opened if e.member_id is not None}}


async def upgrade_after_purchase(
    session: AsyncSession, member_id: int, *, now: datetime, programme: TierProgramme
) -> str | None:
    """``upgrade_after_purchases`` of one member: its new code, or None when unchanged."""
    upgraded = await upgrade_after_purchases(session, [member_id], now=now, programme=programme)
    return upgraded.get(member_id)


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

"""The dry run computed independently: the purchases read back row by row and priced one by
one with ``price_purchase``, in plain Python."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import text

from ledger.model import add_months
from ledger.promotion_rules import PricedLine, PurchaseFacts, RuleSet, price_purchase

COUNTED = ("COMPLETED", "PARTIALLY_REFUNDED", "REFUNDED")


@dataclass(frozen=True)
class Expected:
    purchases: int
    members: int
    points_now: int
    points_proposed: int
    members_affected: int
    tier_moves: list[dict]
    delta_by_tier: list[dict]
    #: Causes of the proposal's points that gave any (BASE, TIER, PROMOTION:<name>).
    causes: frozenset[str]


def _tier(history: list, member: int, at: datetime, lowest: str) -> str:
    for row in history:
        if row.member_id == member and row.since <= at and (row.until is None or row.until > at):
            return row.tier_code
    return lowest


def _ladder(rules: RuleSet, spend: Decimal) -> str:
    reached = [t for t in rules.tiers if t.threshold <= spend]
    return reached[-1].code if reached else rules.tiers[0].code


async def expected_dry_run(
    session,  # type: ignore[no-untyped-def]
    now: RuleSet,
    proposed: RuleSet,
    *,
    new_ladder: bool,
    since: datetime,
    until: datetime,
    zone: ZoneInfo,
    window_months: int,
) -> Expected:
    bought = (
        await session.execute(
            text(
                "SELECT id, member_id, amount, refunded_amount, occurred_at, channel, store_id"
                " FROM purchases WHERE member_id IS NOT NULL AND status = ANY(:counted)"
                " ORDER BY id"
            ),
            {"counted": list(COUNTED)},
        )
    ).all()
    items = defaultdict(list)
    for row in await session.execute(text("SELECT * FROM purchase_items ORDER BY line_no")):
        items[row.purchase_id].append(
            PricedLine(row.sku, row.category, row.unit_price * row.quantity)
        )
    birthdays = {
        row.id: row.birthday
        for row in await session.execute(text("SELECT id, birthday FROM members"))
    }
    segments = defaultdict(set)
    for row in await session.execute(text("SELECT segment_id, member_id FROM segment_members")):
        segments[row.member_id].add(str(row.segment_id))
    history = (await session.execute(text("SELECT * FROM member_tiers"))).all()
    lowest = now.tiers[0].code

    def spend(member: int, start: datetime, end: datetime, but: int | None = None) -> Decimal:
        return sum(
            (
                p.amount - p.refunded_amount
                for p in bought
                if p.member_id == member and start <= p.occurred_at < end and p.id != but
            ),
            Decimal(0),
        )

    totals: dict[int, list[int]] = defaultdict(lambda: [0, 0])
    by_tier: dict[str, int] = defaultdict(int)
    replayed = 0
    causes: set[str] = set()
    for p in bought:
        if not since <= p.occurred_at < until:
            continue
        replayed += 1
        number = 1 + sum(
            1
            for q in bought
            if q.member_id == p.member_id and (q.occurred_at, q.id) < (p.occurred_at, p.id)
        )
        tier_now = _tier(history, p.member_id, p.occurred_at, lowest)
        tier_proposed = (
            _ladder(
                proposed,
                spend(
                    p.member_id, add_months(p.occurred_at, -window_months), p.occurred_at, but=p.id
                ),
            )
            if new_ladder
            else tier_now
        )
        facts = PurchaseFacts(
            amount=p.amount,
            occurred_at=p.occurred_at.astimezone(zone),
            channel=p.channel,
            store_id=p.store_id,
            lines=items[p.id],
            birthday=birthdays[p.member_id],
            segment_ids=frozenset(segments[p.member_id]),
            purchase_number=number,
        )
        points_now = price_purchase(now, _with_tier(facts, tier_now)).points
        priced = price_purchase(proposed, _with_tier(facts, tier_proposed))
        points_proposed = priced.points
        causes.update(cause for cause, points in priced.lines if points)
        totals[p.member_id][0] += points_now
        totals[p.member_id][1] += points_proposed
        by_tier[tier_now] += points_proposed - points_now
    moves: dict[tuple[str, str], int] = defaultdict(int)
    for member in totals:
        today = _tier(history, member, until, lowest)
        then = (
            _ladder(proposed, spend(member, add_months(until, -window_months), until))
            if new_ladder
            else today
        )
        if today != then:
            moves[(today, then)] += 1
    return Expected(
        purchases=replayed,
        members=len(totals),
        points_now=sum(t[0] for t in totals.values()),
        points_proposed=sum(t[1] for t in totals.values()),
        members_affected=sum(1 for t in totals.values() if t[0] != t[1]),
        tier_moves=[
            {"fromTier": a, "toTier": b, "members": n} for (a, b), n in sorted(moves.items())
        ],
        delta_by_tier=[{"key": k, "count": d} for k, d in sorted(by_tier.items())],
        causes=frozenset(causes),
    )


def _with_tier(facts: PurchaseFacts, tier: str) -> PurchaseFacts:
    return PurchaseFacts(**{**facts.__dict__, "tier_code": tier})

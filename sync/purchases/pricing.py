"""Pricing purchases by the stored earning rules, and keeping each one's points by cause.

A batch (one purchase or many) reads the rules once (``load_pricing``) and the buyers'
facts the promotions' conditions need in one statement (``price_purchases``): birthday,
segment memberships, purchases so far. Each purchase's breakdown is kept, so
``Purchase.pointsBreakdown`` and ``Promotion.pointsAwarded`` explain it later, whatever the
rules became since: its ``BASE`` and ``TIER`` points on the purchase row
(``kept_on_row``), every further line in ``purchase_points`` (``store_breakdowns``, one
statement). Purchases recorded before the row held them keep every line in
``purchase_points``; ``breakdowns`` reads either.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.multirow import MultiRowInsert
from ledger.promotion_rules import (
    PricedLine,
    PromotionKind,
    PurchaseFacts,
    RuleSet,
    TierRule,
    chosen_promotions,
    floor,
    price_purchase,
)
from ledger.rule_store import Execute, StoredRules, current_rules
from sync.purchases.requests import IngestConfig, PurchaseRequest
from sync.tiers import COUNTED, TierProgramme, programme_of


@dataclass(frozen=True)
class PricingRules:
    stored: StoredRules
    #: The ladder as the tier upgrades read it.
    programme: TierProgramme
    #: What each purchase priced by these rules records.
    rule_version: str


@dataclass(frozen=True)
class BreakdownLine:
    cause: str
    points: int
    promotion_id: int | None = None


@dataclass(frozen=True)
class PricedPurchase:
    points: int
    has_promotion: bool
    rule_version: str
    lines: tuple[BreakdownLine, ...]


def default_rules(config: IngestConfig) -> RuleSet:
    """The settings' base rate and ladder: what applies until they are defined at run time."""
    return RuleSet(
        points_per_100=config.earning.points_per_100,
        tiers=tuple(
            TierRule(t.code, t.name, t.qualifying_spend, t.multiplier) for t in config.tiers.tiers
        ),
    )


async def load_pricing(
    session: AsyncSession | Execute, config: IngestConfig, *, since: datetime
) -> PricingRules:
    """The rules as committed now, for purchases that occurred at or after ``since``."""
    execute = session.execute if isinstance(session, AsyncSession) else session
    stored = await current_rules(execute, defaults=default_rules(config), since=since)
    programme = programme_of(stored.rules.tiers, config.tiers.window_months)
    return PricingRules(stored, programme, f"{config.earning.version}.{stored.version}")


@dataclass(frozen=True)
class ToPrice:
    request: PurchaseRequest
    member_id: int | None
    tier_code: str | None


_BUYERS = text(
    "SELECT m.id, m.birthday,"
    " ARRAY(SELECT s.segment_id::text FROM segment_members s WHERE s.member_id = m.id)"
    "  AS segment_ids,"
    " (SELECT count(*) FROM purchases p WHERE p.member_id = m.id AND p.status <> 'REJECTED')"
    "  AS purchases"
    " FROM members m WHERE m.id = ANY(CAST(:ids AS bigint[]))"
)


async def price_purchases(
    session: AsyncSession, pricing: PricingRules, batch: Sequence[ToPrice], *, config: IngestConfig
) -> list[PricedPurchase]:
    """Each purchase of ``batch`` priced by ``pricing``, in order. A buyer's purchases of
    the batch count as theirs in the batch's order (the 2nd of a first-time buyer is their
    2nd purchase)."""
    rules = pricing.stored.rules
    ids = sorted({p.member_id for p in batch if p.member_id is not None})
    buyers = {}
    if ids and rules.promotions:
        buyers = {row.id: row for row in await session.execute(_BUYERS, {"ids": ids})}
    seen: dict[int, int] = {}
    priced = []
    for item in batch:
        request, buyer = item.request, buyers.get(item.member_id or 0)
        if item.member_id is not None:
            seen[item.member_id] = seen.get(item.member_id, 0) + 1
        facts = PurchaseFacts(
            amount=request.amount,
            occurred_at=request.occurred_at.astimezone(config.ledger.zone),
            channel=request.channel.value,
            store_id=request.store_id,
            lines=[PricedLine(i.sku, i.category, i.unit_price * i.quantity) for i in request.items],
            tier_code=item.tier_code,
            birthday=buyer.birthday if buyer is not None else None,
            segment_ids=frozenset(buyer.segment_ids) if buyer is not None else frozenset(),
            purchase_number=(
                (buyer.purchases if buyer is not None else 0) + seen[item.member_id]
                if item.member_id is not None
                else 1
            ),
        )
        priced.append(priced_purchase(rules, facts, pricing.rule_version))
    return priced


def priced_purchase(rules: RuleSet, facts: PurchaseFacts, version: str) -> PricedPurchase:
    """``price_purchase``'s breakdown with each promotion's line naming its promotion."""
    breakdown = price_purchase(rules, facts)
    # price_purchase lists multiplier promotions in the order they compound, then bonuses.
    promoted = rules.promotions and len(breakdown.lines) > 1
    chosen = chosen_promotions(rules, facts) if promoted else []
    promotions = iter(
        [p for p in chosen if p.kind is PromotionKind.MULTIPLIER]
        + [p for p in chosen if p.kind is PromotionKind.BONUS_POINTS]
    )
    lines = tuple(
        BreakdownLine(cause, points, int(next(promotions).id))
        if cause.startswith("PROMOTION:")
        else BreakdownLine(cause, points)
        for cause, points in breakdown.lines
    )
    return PricedPurchase(
        points=max(breakdown.points, 0),
        has_promotion=any(line.promotion_id is not None for line in lines),
        rule_version=version,
        lines=lines,
    )


async def points_by_promotion(execute: Execute, promotion_ids: Sequence[int]) -> list[int]:
    """Points each promotion added to purchases that count (not rejected, not held), in order."""
    rows = await execute(
        text(
            "SELECT pp.promotion_id, sum(pp.points) AS points FROM purchase_points pp"
            " JOIN purchases p ON p.id = pp.purchase_id"
            " WHERE pp.promotion_id = ANY(CAST(:ids AS bigint[]))"
            f"  AND p.status IN {COUNTED} GROUP BY pp.promotion_id"
        ),
        {"ids": list(promotion_ids)},
    )
    found = {row.promotion_id: int(row.points) for row in rows}
    return [found.get(i, 0) for i in promotion_ids]


async def breakdowns(execute: Execute, purchase_ids: Sequence[int]) -> list[list[tuple[str, int]]]:
    """Each purchase's points by cause, in the order they were priced."""
    rows = await execute(
        text(
            "SELECT p.id AS purchase_id, l.line_no, l.cause, l.points FROM purchases p"
            " CROSS JOIN LATERAL (VALUES (1, 'BASE', p.base_points), (2, 'TIER', p.tier_points))"
            "  AS l(line_no, cause, points)"
            " WHERE p.id = ANY(CAST(:ids AS bigint[])) AND l.points IS NOT NULL"
            " UNION ALL SELECT purchase_id, line_no, cause, points FROM purchase_points"
            " WHERE purchase_id = ANY(CAST(:ids AS bigint[])) ORDER BY purchase_id, line_no"
        ),
        {"ids": list(purchase_ids)},
    )
    found: dict[int, list[tuple[str, int]]] = {}
    for row in rows:
        found.setdefault(row.purchase_id, []).append((row.cause, row.points))
    return [found.get(i, []) for i in purchase_ids]


#: The causes a purchase's row holds, at the head of its breakdown in this order.
_ON_ROW = ("BASE", "TIER")


def _held_on_row(priced: PricedPurchase) -> int:
    """How many of the breakdown's first lines the purchase row holds."""
    held = 0
    for line, cause in zip(priced.lines, _ON_ROW, strict=False):
        if line.cause != cause:
            break
        held += 1
    return held


def kept_on_row(priced: PricedPurchase) -> tuple[int | None, int | None]:
    """The purchase row's ``base_points`` and ``tier_points``: its BASE and TIER lines'
    points (a purchase earning nothing has no TIER line)."""
    held = [line.points for line in priced.lines[: _held_on_row(priced)]]
    base, tier = held + [None] * (len(_ON_ROW) - len(held))
    return base, tier


def with_coupons(priced: PricedPurchase, coupons: Sequence[tuple[str, Decimal]]) -> PricedPurchase:
    """A POINTS_MULTIPLIER coupon's line, ``COUPON:<code>``: the base points times its
    multiplier less one (rounded down), beside what the rules gave."""
    if not coupons:
        return priced
    base = next(line.points for line in priced.lines if line.cause == "BASE")
    extra = tuple(
        BreakdownLine(f"COUPON:{code}", floor(Decimal(base) * (value - 1)))
        for code, value in coupons
    )
    return PricedPurchase(
        points=priced.points + sum(line.points for line in extra),
        has_promotion=priced.has_promotion,
        rule_version=priced.rule_version,
        lines=priced.lines + extra,
    )


_LINES = MultiRowInsert(
    "purchase_points",
    {
        "purchase_id": "bigint",
        "line_no": "smallint",
        "cause": "text",
        "points": "int",
        "promotion_id": "bigint",
    },
)


async def store_breakdowns(
    session: AsyncSession, purchases: Sequence[tuple[int, PricedPurchase]]
) -> None:
    """Write the lines of any number of purchases' breakdowns that their rows do not hold
    (see ``kept_on_row``) in one statement, numbered by their place in the breakdown."""
    rows: list[dict[str, object]] = []
    for purchase_id, priced in purchases:
        held = _held_on_row(priced)
        rows.extend(
            {
                "purchase_id": purchase_id,
                "line_no": n,
                "cause": line.cause,
                "points": line.points,
                "promotion_id": line.promotion_id,
            }
            for n, line in enumerate(priced.lines[held:], start=held + 1)
        )
    if rows:
        await _LINES.execute(session, rows)

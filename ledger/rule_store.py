"""The programme's earning rules as stored: the base rate, the tier ladder, the promotions.

``current_rules`` reads them in one statement, uncached: each purchase (or batch) prices
by what is committed when it starts, so a promotion defined through any hub process
applies to the next purchase recorded through every other, with no restart and nothing
to invalidate. Every change bumps ``earning_rules.version`` (which also serialises
changes), and each purchase records the version that priced it.

Until the ladder or the base rate is first defined, the settings' ones apply (``defaults``).
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.errors import LedgerError
from ledger.promotion_rules import PromotionKind, PromotionRule, RuleSet, TierRule

Execute = Callable[..., Awaitable[Any]]

MAX_TIERS = 20
MAX_PROMOTIONS_RUNNING = 200


class RuleRejected(LedgerError):
    """A promotion or a ladder the programme cannot hold (INVALID_INPUT)."""

    code = "INVALID_INPUT"


class PromotionNotFound(LedgerError):
    code = "NOT_FOUND"


@dataclass(frozen=True)
class StoredRules:
    rules: RuleSet
    #: 0 until the rules are first changed at run time.
    version: int


@dataclass(frozen=True)
class StoredPromotion:
    rule: PromotionRule
    created_at: datetime


_PROMOTION_COLUMNS = (
    "id, name, kind, value, days_of_month, days_of_week, birthday_window_days, tier_codes,"
    " segment_id, categories, skus, channels, store_ids, nth_purchase, starts_at, ends_at,"
    " stackable, created_at"
)

#: The stored ladder as one JSON value (``ladder_from_json``): a column any statement adds.
LADDER_JSON = (
    "(SELECT coalesce(json_agg(json_build_object('code', code, 'name', name,"
    " 'threshold', threshold::text, 'multiplier', multiplier::text,"
    " 'pay_percent', pay_percent::text, 'perks', perks) ORDER BY position), '[]')"
    " FROM tier_ladder)"
)

_CURRENT = text(
    "SELECT (SELECT version FROM earning_rules WHERE id = 1) AS version,"
    " (SELECT points_per_100 FROM earning_rules WHERE id = 1) AS points_per_100,"
    f" {LADDER_JSON} AS tiers,"
    " (SELECT coalesce(json_agg(to_json(p) ORDER BY p.id), '[]') FROM ("
    f"   SELECT {_PROMOTION_COLUMNS} FROM promotions"
    "    WHERE ends_at IS NULL OR ends_at > :since) p) AS promotions"
)


def _aware(value: str) -> datetime:
    return datetime.fromisoformat(value)


def promotion_from_row(row: Any) -> PromotionRule:
    get = row.get if isinstance(row, dict) else row._mapping.get
    starts, ends = get("starts_at"), get("ends_at")
    return PromotionRule(
        id=str(get("id")),
        name=get("name"),
        kind=PromotionKind(get("kind")),
        value=Decimal(str(get("value"))),
        starts_at=_aware(starts) if isinstance(starts, str) else starts,
        ends_at=(_aware(ends) if isinstance(ends, str) else ends) if ends is not None else None,
        days_of_month=tuple(get("days_of_month") or ()),
        days_of_week=tuple(get("days_of_week") or ()),
        birthday_window_days=get("birthday_window_days"),
        tier_codes=tuple(get("tier_codes") or ()),
        segment_id=str(get("segment_id")) if get("segment_id") is not None else None,
        categories=tuple(get("categories") or ()),
        skus=tuple(get("skus") or ()),
        channels=tuple(get("channels") or ()),
        store_ids=tuple(get("store_ids") or ()),
        nth_purchase=get("nth_purchase"),
        stackable=bool(get("stackable")),
    )


def ladder_from_json(tiers: Sequence[dict[str, Any]]) -> tuple[TierRule, ...]:
    """The ladder ``LADDER_JSON`` reads; empty until it is first defined."""
    return tuple(
        TierRule(
            code=t["code"],
            name=t["name"],
            threshold=Decimal(t["threshold"]),
            multiplier=Decimal(t["multiplier"]),
            pay_percent=Decimal(t["pay_percent"]) if t["pay_percent"] is not None else None,
            perks=tuple(t["perks"] or ()),
        )
        for t in tiers
    )


async def stored_ladders(execute: Execute, keys: Sequence[int]) -> list[tuple[TierRule, ...]]:
    """The stored ladder, once per key (a dataloader's shape: every key answers the same)."""
    row = (await execute(text(f"SELECT {LADDER_JSON} AS tiers"))).one()
    ladder = ladder_from_json(row.tiers)
    return [ladder for _ in keys]


async def current_rules(execute: Execute, *, defaults: RuleSet, since: datetime) -> StoredRules:
    """The rules as committed now; promotions that ended before ``since`` are left out
    (they cannot apply to a purchase that occurred after it)."""
    row = (await execute(_CURRENT, {"since": since})).one()
    tiers = ladder_from_json(row.tiers)
    rules = RuleSet(
        points_per_100=(
            row.points_per_100 if row.points_per_100 is not None else defaults.points_per_100
        ),
        tiers=tiers or defaults.tiers,
        promotions=tuple(promotion_from_row(p) for p in row.promotions),
    )
    return StoredRules(rules, row.version or 0)


async def _bump_version(session: AsyncSession, now: datetime) -> int:
    """A new version of the rules; holds the rules row's lock to the end of the
    transaction, so changes to the rules take turns."""
    return int(
        await session.scalar(
            text(
                "INSERT INTO earning_rules (id, version, changed_at) VALUES (1, 1, :now)"
                " ON CONFLICT (id) DO UPDATE SET version = earning_rules.version + 1,"
                " changed_at = :now RETURNING version"
            ),
            {"now": now},
        )
    )


def _check_promotion(rule: PromotionRule) -> None:
    if not rule.name.strip() or len(rule.name) > 100 or "\x00" in rule.name:
        raise RuleRejected("a promotion's name is 1 to 100 characters", field=("name",))
    if not rule.value.is_finite():
        raise RuleRejected("value must be a number", field=("value",))
    if rule.kind is PromotionKind.MULTIPLIER and not Decimal(1) < rule.value <= 10:
        raise RuleRejected("a multiplier is above 1 and at most 10", field=("value",))
    if rule.kind is PromotionKind.BONUS_POINTS and (
        not 1 <= rule.value <= 100_000 or rule.value != rule.value.to_integral_value()
    ):
        raise RuleRejected("bonus points are a whole number, 1 to 100000", field=("value",))
    if len(rule.days_of_month) > 31 or len(rule.days_of_week) > 7 or len(rule.channels) > 5:
        raise RuleRejected("a day or a channel is named once", field=("daysOfMonth",))
    if any(not 1 <= d <= 31 for d in rule.days_of_month):
        raise RuleRejected("days of the month are 1 to 31", field=("daysOfMonth",))
    if any(not 1 <= d <= 7 for d in rule.days_of_week):
        raise RuleRejected("ISO weekdays are 1 to 7", field=("daysOfWeek",))
    if rule.birthday_window_days is not None and not 0 <= rule.birthday_window_days <= 31:
        raise RuleRejected("the birthday window is 0 to 31 days", field=("birthdayWindowDays",))
    if rule.nth_purchase is not None and not 1 <= rule.nth_purchase <= 1000:
        raise RuleRejected("nthPurchase is 1 to 1000", field=("nthPurchase",))
    if rule.ends_at is not None and rule.ends_at <= rule.starts_at:
        raise RuleRejected("a promotion ends after it starts", field=("endsAt",))
    for name, values in (
        ("tierCodes", rule.tier_codes),
        ("categories", rule.categories),
        ("skus", rule.skus),
        ("storeIds", rule.store_ids),
    ):
        if len(values) > 100 or any(not v.strip() or len(v) > 100 or "\x00" in v for v in values):
            raise RuleRejected(f"{name}: at most 100 values of 1 to 100 characters", field=(name,))
    for name, at in (("startsAt", rule.starts_at), ("endsAt", rule.ends_at)):
        if at is not None and at.tzinfo is None:
            raise RuleRejected("a moment names its offset", field=(name,))


async def define_promotion(
    session: AsyncSession, rule: PromotionRule, *, now: datetime, by: str
) -> StoredPromotion:
    """Store a promotion (its ``id`` is ignored); it prices purchases from its start.

    Raises ``RuleRejected``."""
    _check_promotion(rule)
    if rule.segment_id is not None:
        exists = await session.scalar(
            text("SELECT EXISTS (SELECT 1 FROM segments WHERE id = :id)"),
            {"id": int(rule.segment_id)},
        )
        if not exists:
            raise RuleRejected("no such segment", field=("segmentId",))
    await _bump_version(session, now)
    row = (
        await session.execute(
            text(
                "INSERT INTO promotions (name, kind, value, days_of_month, days_of_week,"
                " birthday_window_days, tier_codes, segment_id, categories, skus, channels,"
                " store_ids, nth_purchase, starts_at, ends_at, stackable, created_at, created_by)"
                " VALUES (:name, :kind, :value, :dom, :dow, :bday, :tiers, :segment, :categories,"
                " :skus, :channels, :stores, :nth, :starts, :ends, :stackable, :now, :by)"
                f" RETURNING {_PROMOTION_COLUMNS}"
            ),
            {
                "name": rule.name.strip(),
                "kind": rule.kind.value,
                "value": rule.value,
                "dom": sorted(set(rule.days_of_month)),
                "dow": sorted(set(rule.days_of_week)),
                "bday": rule.birthday_window_days,
                "tiers": list(rule.tier_codes),
                "segment": int(rule.segment_id) if rule.segment_id is not None else None,
                "categories": list(rule.categories),
                "skus": list(rule.skus),
                "channels": list(rule.channels),
                "stores": list(rule.store_ids),
                "nth": rule.nth_purchase,
                "starts": rule.starts_at,
                "ends": rule.ends_at,
                "stackable": rule.stackable,
                "now": now,
                "by": by,
            },
        )
    ).one()
    return StoredPromotion(promotion_from_row(row), row.created_at)


async def end_promotion(
    session: AsyncSession, promotion_id: int, *, now: datetime
) -> StoredPromotion:
    """End a promotion now (one that already ended keeps its end). Raises
    ``PromotionNotFound``."""
    await _bump_version(session, now)
    row = (
        await session.execute(
            text(
                "UPDATE promotions SET ends_at = CASE WHEN ends_at IS NOT NULL AND ends_at <= :now"
                "  THEN ends_at ELSE greatest(:now, starts_at + interval '1 microsecond') END"
                f" WHERE id = :id RETURNING {_PROMOTION_COLUMNS}"
            ),
            {"id": promotion_id, "now": now},
        )
    ).one_or_none()
    if row is None:
        raise PromotionNotFound("no such promotion", field=("id",))
    return StoredPromotion(promotion_from_row(row), row.created_at)


async def promotions_active(execute: Execute, active_at: datetime | None) -> list[StoredPromotion]:
    """Every promotion (``active_at`` None), or those running at ``active_at``."""
    rows = await execute(
        text(
            f"SELECT {_PROMOTION_COLUMNS} FROM promotions"
            " WHERE CAST(:at AS timestamptz) IS NULL"
            "  OR (starts_at <= :at AND (ends_at IS NULL OR ends_at > :at))"
            " ORDER BY starts_at, id"
        ),
        {"at": active_at},
    )
    return [StoredPromotion(promotion_from_row(r), r.created_at) for r in rows]


async def load_promotions(
    execute: Execute, promotion_ids: Sequence[int]
) -> list[StoredPromotion | None]:
    rows = await execute(
        text(f"SELECT {_PROMOTION_COLUMNS} FROM promotions WHERE id = ANY(CAST(:ids AS bigint[]))"),
        {"ids": list(promotion_ids)},
    )
    found = {r.id: StoredPromotion(promotion_from_row(r), r.created_at) for r in rows}
    return [found.get(i) for i in promotion_ids]


def check_ladder(tiers: Sequence[TierRule]) -> None:
    """The ladder's rules: 1 to 20 tiers, the lowest at threshold 0, thresholds
    increasing, codes unique, multipliers above 0, 0 < payPercent <= 100. Raises
    ``RuleRejected``."""
    if not 1 <= len(tiers) <= MAX_TIERS:
        raise RuleRejected(f"a ladder has 1 to {MAX_TIERS} tiers", field=("tiers",))
    seen: set[str] = set()
    for n, tier in enumerate(tiers):
        where = ("tiers", str(n))
        if (
            not tier.code
            or len(tier.code) > 32
            or not tier.code.isascii()
            or not (
                tier.code[0].isalpha()
                and tier.code.replace("_", "").isalnum()
                and tier.code == tier.code.upper()
            )
        ):
            raise RuleRejected("a tier code is A-Z, 0-9 and _, up to 32", field=(*where, "code"))
        if tier.code in seen:
            raise RuleRejected("tier codes are unique", field=(*where, "code"))
        seen.add(tier.code)
        if not tier.name.strip() or len(tier.name) > 100 or "\x00" in tier.name:
            raise RuleRejected("a tier's name is 1 to 100 characters", field=(*where, "name"))
        for name, value in (("threshold", tier.threshold), ("multiplier", tier.multiplier)):
            if not value.is_finite() or abs(value) >= Decimal("1e12"):
                raise RuleRejected(f"{name} must be a number", field=(*where, name))
        if n == 0 and tier.threshold != 0:
            raise RuleRejected("the lowest tier's threshold is 0", field=(*where, "threshold"))
        if n > 0 and tier.threshold <= tiers[n - 1].threshold:
            raise RuleRejected("thresholds increase up the ladder", field=(*where, "threshold"))
        if not Decimal(0) < tier.multiplier <= 10:
            raise RuleRejected("a multiplier is above 0, at most 10", field=(*where, "multiplier"))
        if tier.pay_percent is not None and (
            not tier.pay_percent.is_finite() or not Decimal(0) < tier.pay_percent <= 100
        ):
            raise RuleRejected("payPercent is above 0, at most 100", field=(*where, "payPercent"))
        if len(tier.perks) > 20 or any(
            not p.strip() or len(p) > 100 or "\x00" in p for p in tier.perks
        ):
            raise RuleRejected("at most 20 perks of 1 to 100 characters", field=(*where, "perks"))


async def define_tiers(
    session: AsyncSession, tiers: Sequence[TierRule], *, now: datetime
) -> tuple[TierRule, ...]:
    """Replace the whole ladder. Raises ``RuleRejected``."""
    ladder = tuple(replace(t, name=t.name.strip()) for t in tiers)
    check_ladder(ladder)
    await _bump_version(session, now)
    await session.execute(text("DELETE FROM tier_ladder"))
    await session.execute(
        text(
            "INSERT INTO tier_ladder (position, code, name, threshold, multiplier, pay_percent,"
            " perks) SELECT t.position, t.code, t.name, t.threshold, t.multiplier, t.pay_percent,"
            " ARRAY(SELECT json_array_elements_text(t.perks))"
            " FROM json_to_recordset(CAST(:tiers AS json)) AS t(position int, code text,"
            "  name text, threshold numeric, multiplier numeric, pay_percent numeric, perks json)"
        ),
        {"tiers": _ladder_json(ladder)},
    )
    return ladder


def _ladder_json(ladder: Sequence[TierRule]) -> str:
    return json.dumps(
        [
            {
                "position": n,
                "code": t.code,
                "name": t.name,
                "threshold": str(t.threshold),
                "multiplier": str(t.multiplier),
                "pay_percent": str(t.pay_percent) if t.pay_percent is not None else None,
                "perks": list(t.perks),
            }
            for n, t in enumerate(ladder)
        ]
    )

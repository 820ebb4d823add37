"""Coupon templates: defined by operators, never deleted (coupons name them), deactivated
to stop issuing. A deactivated template's coupons stay usable until they expire."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.benefits.errors import InvalidBenefit, NotFound
from ledger.benefits.model import VALUED_KINDS, CouponKind, CouponTemplate, TemplateSpec

Execute = Callable[..., Awaitable[Any]]

MAX_TEXT = 200
MAX_LIST = 200
MAX_VALID_DAYS = 3660
_CHANNELS = frozenset({"MINI_PROGRAM", "WEB", "POS", "PARTNER", "ADMIN"})

TEMPLATE_COLUMNS = (
    "id, code, name, kind, value, min_spend, categories, channels, store_ids, valid_days,"
    " valid_from, valid_until, stock, per_member_limit, points_price, active, created_at"
)


def template_from_row(row: Any) -> CouponTemplate:
    return CouponTemplate(
        id=row.id,
        code=row.code,
        name=row.name,
        kind=CouponKind(row.kind),
        value=row.value,
        min_spend=row.min_spend,
        categories=tuple(row.categories),
        channels=tuple(row.channels),
        store_ids=tuple(row.store_ids),
        valid_days=row.valid_days,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        stock=row.stock,
        per_member_limit=row.per_member_limit,
        points_price=row.points_price,
        active=row.active,
        created_at=row.created_at,
    )


def _text(value: str, name: str) -> str:
    stripped = value.strip()
    if not stripped or len(stripped) > MAX_TEXT:
        raise InvalidBenefit(f"{name} must have 1 to {MAX_TEXT} characters", field=(name,))
    return stripped


def _names(values: Sequence[str], name: str) -> tuple[str, ...]:
    if len(values) > MAX_LIST:
        raise InvalidBenefit(f"{name} may list at most {MAX_LIST}", field=(name,))
    cleaned = tuple(dict.fromkeys(_text(v, name) for v in values))
    return cleaned


def _positive(value: int | None, name: str) -> None:
    if value is not None and value <= 0:
        raise InvalidBenefit(f"{name} must be positive", field=(name,))


def check_spec(spec: TemplateSpec) -> TemplateSpec:
    """The spec as it will be stored; InvalidBenefit naming the first field at fault."""
    value = spec.value
    if spec.kind in VALUED_KINDS:
        if value is None:
            raise InvalidBenefit(f"a {spec.kind.value} coupon needs a value", field=("value",))
        if spec.kind is CouponKind.PERCENT_OFF and not Decimal(0) < value < Decimal(100):
            raise InvalidBenefit(
                "PERCENT_OFF value is the percent paid, between 0 and 100 (90 = 10% off)",
                field=("value",),
            )
        if spec.kind is CouponKind.POINTS_MULTIPLIER and value <= 1:
            raise InvalidBenefit("a points multiplier must be above 1", field=("value",))
        if value <= 0 or value >= Decimal("1e12") or value != value.quantize(Decimal("0.01")):
            raise InvalidBenefit("value must be positive, to the fen", field=("value",))
    elif value is not None:
        raise InvalidBenefit(f"a {spec.kind.value} coupon has no value", field=("value",))
    if spec.min_spend is not None and not Decimal(0) < spec.min_spend < Decimal("1e12"):
        raise InvalidBenefit("minSpend must be positive", field=("minSpend",))
    channels = _names(spec.channels, "channels")
    if not set(channels) <= _CHANNELS:
        raise InvalidBenefit("unknown channel", field=("channels",))
    if not 0 < spec.valid_days <= MAX_VALID_DAYS:
        raise InvalidBenefit(
            f"validDays must be between 1 and {MAX_VALID_DAYS}", field=("validDays",)
        )
    if spec.valid_from and spec.valid_until and spec.valid_from >= spec.valid_until:
        raise InvalidBenefit("validFrom must come before validUntil", field=("validFrom",))
    if spec.stock is not None and spec.stock < 0:
        raise InvalidBenefit("stock must not be negative", field=("stock",))
    _positive(spec.per_member_limit, "perMemberLimit")
    _positive(spec.points_price, "pointsPrice")
    return TemplateSpec(
        code=_text(spec.code, "code").upper(),
        name=_text(spec.name, "name"),
        kind=spec.kind,
        value=value,
        min_spend=spec.min_spend,
        categories=_names(spec.categories, "categories"),
        channels=channels,
        store_ids=_names(spec.store_ids, "storeIds"),
        valid_days=spec.valid_days,
        valid_from=spec.valid_from,
        valid_until=spec.valid_until,
        stock=spec.stock,
        per_member_limit=spec.per_member_limit,
        points_price=spec.points_price,
    )


_INSERT = text(
    "INSERT INTO coupon_templates (code, name, kind, value, min_spend, categories, channels,"
    " store_ids, valid_days, valid_from, valid_until, stock, per_member_limit, points_price,"
    " created_at, created_by) VALUES (:code, :name, :kind, :value, :min_spend, :categories,"
    " :channels, :store_ids, :valid_days, :valid_from, :valid_until, :stock,"
    " :per_member_limit, :points_price, :now, :actor)"
    f" ON CONFLICT (code) DO NOTHING RETURNING {TEMPLATE_COLUMNS}"
)


async def define_template(
    *, session: AsyncSession, spec: TemplateSpec, actor: str, now: datetime
) -> CouponTemplate:
    """Create a template; INVALID_INPUT when its code is taken."""
    spec = check_spec(spec)
    try:
        row = (
            await session.execute(
                _INSERT,
                {
                    "code": spec.code,
                    "name": spec.name,
                    "kind": spec.kind.value,
                    "value": spec.value,
                    "min_spend": spec.min_spend,
                    "categories": list(spec.categories),
                    "channels": list(spec.channels),
                    "store_ids": list(spec.store_ids),
                    "valid_days": spec.valid_days,
                    "valid_from": spec.valid_from,
                    "valid_until": spec.valid_until,
                    "stock": spec.stock,
                    "per_member_limit": spec.per_member_limit,
                    "points_price": spec.points_price,
                    "now": now,
                    "actor": actor,
                },
            )
        ).first()
    except IntegrityError as error:
        # The CHECKs mirror check_spec; reaching one is a bug in it, not the caller's fault.
        raise InvalidBenefit(f"the template breaks a rule: {error.orig}") from error
    if row is None:
        raise InvalidBenefit(f"a template {spec.code!r} exists already", field=("code",))
    return template_from_row(row)


async def deactivate_template(*, session: AsyncSession, template_id: int) -> CouponTemplate:
    row = (
        await session.execute(
            text(
                "UPDATE coupon_templates SET active = false WHERE id = :id"
                f" RETURNING {TEMPLATE_COLUMNS}"
            ),
            {"id": template_id},
        )
    ).first()
    if row is None:
        raise NotFound(f"no coupon template {template_id}", field=("id",))
    return template_from_row(row)


async def lock_template(session: AsyncSession, template_id: int) -> CouponTemplate:
    """The template, locked until the transaction ends: issues of one template queue here,
    so stock and per-member limits are counted by one issue at a time."""
    row = (
        await session.execute(
            text(f"SELECT {TEMPLATE_COLUMNS} FROM coupon_templates WHERE id = :id FOR UPDATE"),
            {"id": template_id},
        )
    ).first()
    if row is None:
        raise NotFound(f"no coupon template {template_id}", field=("templateId",))
    return template_from_row(row)


async def load_templates(execute: Execute, ids: Sequence[int]) -> list[CouponTemplate | None]:
    rows = await execute(
        text(
            f"SELECT {TEMPLATE_COLUMNS} FROM coupon_templates"
            " WHERE id = ANY(CAST(:ids AS bigint[]))"
        ),
        {"ids": list(ids)},
    )
    found = {row.id: template_from_row(row) for row in rows}
    return [found.get(i) for i in ids]


async def list_templates(
    execute: Execute, *, active_only: bool, rewards_only: bool = False
) -> list[CouponTemplate]:
    """Templates by code; the rewards catalogue is the active ones with a points price and
    stock left."""
    where = ["true"]
    if active_only or rewards_only:
        where.append("active")
    if rewards_only:
        where.append("points_price IS NOT NULL AND (stock IS NULL OR stock > 0)")
    rows = await execute(
        text(
            f"SELECT {TEMPLATE_COLUMNS} FROM coupon_templates WHERE {' AND '.join(where)}"
            " ORDER BY code"
        )
    )
    return [template_from_row(row) for row in rows]

"""Coupons used on a purchase: claimed in the purchase's transaction, redeemed once.

``claim_coupons`` locks the named coupons (in ID order, so two tills naming the same
coupons cannot deadlock) and quotes each against the basket after the lock: of any number
of purchases naming one coupon at once, the first to lock it redeems it and every other
sees it USED and is refused whole (the till quotes before taking payment, so a refusal
means the basket's price is wrong). ``redeem_claimed`` then marks them REDEEMED by the
stored purchase, with an event each.

A refund of the whole purchase gives its coupons back (``return_coupons``): each becomes
ACTIVE again, with a RETURNED event, if it is still within its validity; one past it stays
REDEEMED (the programme never revives an expired coupon). A partial refund keeps them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.benefits.codes import normalise_code
from ledger.benefits.errors import InvalidBenefit, NotFound
from ledger.benefits.model import Coupon, CouponKind, CouponTemplate
from ledger.benefits.queries import COUPON_COLUMNS, coupon_from_row
from ledger.benefits.rules import ZERO, Basket, Quote, discount, eligible_amount, quote
from ledger.benefits.templates import load_templates

MAX_CODES = 20


@dataclass(frozen=True)
class Claimed:
    coupon: Coupon
    template: CouponTemplate
    quote: Quote

    @property
    def points_multiplier(self) -> Decimal | None:
        """The multiplier a POINTS_MULTIPLIER coupon puts on the base points."""
        if self.template.kind is CouponKind.POINTS_MULTIPLIER:
            return self.template.value
        return None


async def claim_coupons(
    session: AsyncSession, codes: Sequence[str], basket: Basket, now: datetime
) -> list[Claimed]:
    """Lock and quote the coupons named; raises ``NotFound`` for an unknown code and
    ``InvalidBenefit`` (naming the reason) for one the basket cannot use."""
    if len(codes) > MAX_CODES:
        raise InvalidBenefit(f"at most {MAX_CODES} coupons", field=("couponCodes",))
    wanted = list(dict.fromkeys(normalise_code(c) for c in codes))
    if not wanted:
        return []
    rows = await session.execute(
        text(
            f"SELECT {COUPON_COLUMNS} FROM coupons WHERE code = ANY(CAST(:codes AS text[]))"
            " ORDER BY id FOR UPDATE"
        ),
        {"codes": wanted},
    )
    found = {row.code: coupon_from_row(row) for row in rows}
    for n, code in enumerate(wanted):
        if code not in found:
            raise NotFound(f"no coupon {code}", field=("couponCodes", str(n)))
    coupons = [found[code] for code in wanted]
    templates = await load_templates(session.execute, [c.template_id for c in coupons])
    claimed = []
    for n, (coupon, template) in enumerate(zip(coupons, templates, strict=True)):
        assert template is not None
        answer = quote(coupon, template, basket, now)
        if not answer.usable:
            assert answer.reason is not None
            raise InvalidBenefit(
                f"coupon {coupon.code} cannot be used: {answer.reason.value}",
                field=("couponCodes", str(n)),
            )
        claimed.append(Claimed(coupon, template, answer))
    return claimed


async def redeem_claimed(
    session: AsyncSession,
    claimed: Sequence[Claimed],
    *,
    purchase_id: int,
    now: datetime,
    actor: str,
) -> list[Coupon]:
    """Mark the claimed coupons REDEEMED by ``purchase_id``; answers them as they stand."""
    if not claimed:
        return []
    rows = await session.execute(
        text(
            "WITH redeemed AS (UPDATE coupons SET status = 'REDEEMED', redeemed_at = :now,"
            " redeemed_purchase_id = :purchase, status_changed_at = :now"
            f" WHERE id = ANY(CAST(:ids AS bigint[])) RETURNING {COUPON_COLUMNS}),"
            " event AS (INSERT INTO coupon_events (coupon_id, member_id, kind, at, purchase_id,"
            " actor) SELECT id, member_id, 'REDEEMED', :now, :purchase, :actor FROM redeemed)"
            " SELECT * FROM redeemed"
        ),
        {
            "ids": [c.coupon.id for c in claimed],
            "now": now,
            "purchase": purchase_id,
            "actor": actor,
        },
    )
    by_id = {row.id: coupon_from_row(row) for row in rows}
    return [by_id[c.coupon.id] for c in claimed]


async def redeemed_by_purchase(
    session: AsyncSession, purchase_id: int, basket: Basket
) -> list[Claimed]:
    """The coupons a purchase redeemed, with what they took off ``basket`` (the purchase's),
    as a replay answers them."""
    rows = await session.execute(
        text(
            f"SELECT {COUPON_COLUMNS} FROM coupons WHERE redeemed_purchase_id = :purchase"
            " ORDER BY id"
        ),
        {"purchase": purchase_id},
    )
    coupons = [coupon_from_row(row) for row in rows]
    templates = await load_templates(session.execute, [c.template_id for c in coupons])
    return [
        Claimed(c, t, Quote(usable=True, discount=discount(t, eligible_amount(t, basket) or ZERO)))
        for c, t in zip(coupons, templates, strict=True)
        if t is not None
    ]


async def return_coupons(
    session: AsyncSession, purchase_id: int, *, now: datetime, actor: str
) -> int:
    """Give back the coupons a fully refunded purchase redeemed, those still valid; answers
    how many."""
    result = await session.execute(
        text(
            "WITH returned AS (UPDATE coupons SET status = 'ACTIVE', redeemed_at = NULL,"
            " redeemed_purchase_id = NULL, status_changed_at = :now"
            " WHERE redeemed_purchase_id = :purchase AND status = 'REDEEMED'"
            " AND valid_until > :now RETURNING id, member_id)"
            " INSERT INTO coupon_events (coupon_id, member_id, kind, at, purchase_id, actor,"
            " reason) SELECT id, member_id, 'RETURNED', :now, :purchase, :actor,"
            " 'purchase refunded' FROM returned"
        ),
        {"purchase": purchase_id, "now": now, "actor": actor},
    )
    return result.rowcount or 0

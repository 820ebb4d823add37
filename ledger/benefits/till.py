"""Coupons used on a purchase: claimed in the purchase's transaction, redeemed once.

``claim_coupons`` locks the coupons a run of purchases names, in one statement (in ID
order, so two tills naming the same coupons cannot deadlock), and quotes each against its
purchase's basket after the lock: of any number of purchases naming one coupon at once,
the first to lock it redeems it and every other sees it USED and is refused whole (the
till quotes before taking payment, so a refusal means the basket's price is wrong).
``redeem_claimed`` then marks them REDEEMED by the stored purchases, with an event each.

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
from ledger.benefits.errors import BenefitsError, InvalidBenefit, NotFound
from ledger.benefits.model import Coupon, CouponKind, CouponTemplate
from ledger.benefits.queries import COUPON_COLUMNS, coupon_from_row
from ledger.benefits.rules import (
    ZERO,
    Basket,
    Quote,
    QuoteReason,
    discount,
    eligible_amount,
    quote,
    refused,
)
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


class CouponsRefused(Exception):
    """The ``purchase``-th purchase cannot use its coupons, for ``error``'s reason."""

    def __init__(self, purchase: int, error: BenefitsError) -> None:
        super().__init__(str(error))
        self.purchase = purchase
        self.error = error


async def claim_coupons(
    session: AsyncSession, wanted: Sequence[tuple[Sequence[str], Basket]], now: datetime
) -> list[list[Claimed]]:
    """Lock and quote the coupons each purchase names (codes and its basket), every coupon
    of the purchases in one statement; a coupon two of them name goes to the first.

    Raises ``CouponsRefused`` for the first purchase with an unknown code (``NotFound``) or
    a coupon its basket cannot use (``InvalidBenefit``, naming the reason).
    """
    codes: list[list[str]] = []
    for n, (typed, _) in enumerate(wanted):
        if len(typed) > MAX_CODES:
            error = InvalidBenefit(f"at most {MAX_CODES} coupons", field=("couponCodes",))
            raise CouponsRefused(n, error)
        codes.append(list(dict.fromkeys(normalise_code(c) for c in typed)))
    every = sorted({code for named in codes for code in named})
    if not every:
        return [[] for _ in wanted]
    rows = await session.execute(
        text(
            f"SELECT {COUPON_COLUMNS} FROM coupons WHERE code = ANY(CAST(:codes AS text[]))"
            " ORDER BY id FOR UPDATE"
        ),
        {"codes": every},
    )
    found = {row.code: coupon_from_row(row) for row in rows}
    template_ids = sorted({c.template_id for c in found.values()})
    templates = dict(
        zip(template_ids, await load_templates(session.execute, template_ids), strict=True)
    )
    taken: set[int] = set()
    claims = []
    for p, ((_, basket), named) in enumerate(zip(wanted, codes, strict=True)):
        claimed = []
        for n, code in enumerate(named):
            coupon = found.get(code)
            if coupon is None:
                raise CouponsRefused(
                    p, NotFound(f"no coupon {code}", field=("couponCodes", str(n)))
                )
            template = templates[coupon.template_id]
            assert template is not None
            answer = quote(coupon, template, basket, now)
            if answer.usable and coupon.id in taken:
                answer = refused(QuoteReason.USED)
            if not answer.usable:
                assert answer.reason is not None
                error = InvalidBenefit(
                    f"coupon {coupon.code} cannot be used: {answer.reason.value}",
                    field=("couponCodes", str(n)),
                )
                raise CouponsRefused(p, error)
            claimed.append(Claimed(coupon, template, answer))
        taken.update(c.coupon.id for c in claimed)
        claims.append(claimed)
    return claims


async def redeem_claimed(
    session: AsyncSession,
    claims: Sequence[tuple[Sequence[Claimed], int]],
    *,
    now: datetime,
    actor: str,
) -> list[list[Coupon]]:
    """Mark each purchase's claimed coupons REDEEMED by it (claims and the stored
    purchase's ID), in one statement; answers them as they stand."""
    pairs = [(c.coupon.id, purchase_id) for claimed, purchase_id in claims for c in claimed]
    if not pairs:
        return [[] for _ in claims]
    rows = await session.execute(
        text(
            "WITH used AS (SELECT * FROM unnest(CAST(:ids AS bigint[]),"
            "  CAST(:purchases AS bigint[])) AS u(coupon_id, purchase_id)),"
            " redeemed AS (UPDATE coupons c SET status = 'REDEEMED', redeemed_at = :now,"
            "  redeemed_purchase_id = used.purchase_id, status_changed_at = :now FROM used"
            "  WHERE c.id = used.coupon_id"
            f"  RETURNING {', '.join('c.' + col.strip() for col in COUPON_COLUMNS.split(','))}),"
            " event AS (INSERT INTO coupon_events (coupon_id, member_id, kind, at, purchase_id,"
            "  actor) SELECT id, member_id, 'REDEEMED', :now, redeemed_purchase_id, :actor"
            "  FROM redeemed)"
            " SELECT * FROM redeemed"
        ),
        {
            "ids": [coupon for coupon, _ in pairs],
            "purchases": [purchase for _, purchase in pairs],
            "now": now,
            "actor": actor,
        },
    )
    by_id = {row.id: coupon_from_row(row) for row in rows}
    return [[by_id[c.coupon.id] for c in claimed] for claimed, _ in claims]


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

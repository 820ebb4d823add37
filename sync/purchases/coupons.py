"""The coupons a purchase uses: claimed for a run's purchases together, answered again on
a replay (which redeems nothing). The rules of a coupon on a basket are the ledger's
(``ledger.benefits``); this is the purchase's side of them."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.benefits.rules import Basket, BasketLine
from ledger.benefits.till import Claimed, CouponsRefused, claim_coupons, redeemed_by_purchase
from sync.purchases.records import PurchaseRecord
from sync.purchases.requests import InvalidPurchase, PurchaseRequest


def basket_of(request: PurchaseRequest, member_id: int) -> Basket:
    """The purchase as its coupons see it."""
    return Basket(
        member_id=member_id,
        store_id=request.store_id,
        channel=request.channel.value,
        amount=request.amount,
        lines=tuple(BasketLine(i.sku, i.category, i.quantity, i.unit_price) for i in request.items),
    )


async def claim_purchase_coupons(
    session: AsyncSession,
    purchases: Mapping[int, tuple[PurchaseRequest, int | None]],
    now: datetime,
) -> dict[int, list[Claimed]]:
    """The coupons of the purchases (by position: the request and its buyer) that name any,
    locked and quoted in one statement. Raises InvalidPurchase or the benefits error of the
    first purchase that cannot use its coupons."""
    using: dict[int, tuple[PurchaseRequest, int]] = {}
    for n, (request, buyer) in purchases.items():
        if not request.coupon_codes:
            continue
        if buyer is None:
            raise InvalidPurchase("coupons are used by a member", field=("couponCodes",))
        using[n] = (request, buyer)
    if not using:
        return {}
    wanted = [(r.coupon_codes, basket_of(r, buyer)) for r, buyer in using.values()]
    try:
        claims = await claim_coupons(session, wanted, now)
    except CouponsRefused as refused:
        raise refused.error from None
    return dict(zip(using, claims, strict=True))


async def coupons_of_replay(
    session: AsyncSession, earlier: PurchaseRecord, request: PurchaseRequest
) -> list[Claimed]:
    """The coupons the stored purchase redeemed, with what they took off its basket."""
    if earlier.member_id is None:
        return []
    return await redeemed_by_purchase(session, earlier.id, basket_of(request, earlier.member_id))

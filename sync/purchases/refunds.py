"""Refunds: money back on part or all of a purchase, and the refunded share of its points.

The points taken back are the refunded share of what the purchase earned (rounded down,
cumulative over partial refunds, so the shares always add up to the whole): first from the
purchase's own pending points, then from AVAILABLE, where a shortfall is a debt (negative
available) that blocks redemption until later credits repay it. Idempotent by refundNo
within the store.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from sqlalchemy import select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import DomainEvent, publish
from ledger.benefits.till import return_coupons
from ledger.model import Bucket, EntryKind, EntryRequest, LedgerConfig
from ledger.model import Channel as LedgerChannel
from ledger.posting import lock_members, post_entries
from sync.purchases.records import PurchaseRecord, purchase_from_row
from sync.purchases.requests import (
    FUTURE_TOLERANCE,
    InvalidPurchase,
    PurchaseError,
    ReceiptRecordedConcurrently,
)
from sync.purchases.tables import purchases


class PurchaseNotFound(PurchaseError):
    code = "NOT_FOUND"


class RefundNumberReused(PurchaseError):
    code = "IDEMPOTENCY_CONFLICT"


@dataclass(frozen=True)
class RefundRequest:
    store_id: str
    receipt_no: str
    refund_no: str
    amount: Decimal
    occurred_at: datetime


@dataclass(frozen=True)
class RefundOutcome:
    purchase: PurchaseRecord
    points_clawed_back: int
    replayed: bool = False


@dataclass(frozen=True, kw_only=True)
class PurchaseRefunded(DomainEvent):
    event_type = "purchase.refunded"
    purchase_id: int
    refund_no: str
    amount: Decimal
    refunded_total: Decimal
    points_clawed_back: int
    status: str


def _check(request: RefundRequest) -> None:
    if not request.refund_no.strip() or len(request.refund_no) > 100:
        raise InvalidPurchase("refundNo needs 1 to 100 characters", field=("refundNo",))
    if request.amount <= 0 or request.amount != request.amount.quantize(Decimal("0.01")):
        raise InvalidPurchase("amount must be > 0 with at most 2 decimals", field=("amount",))


def _check_date(occurred_at: datetime, purchase: PurchaseRecord, now: datetime) -> None:
    """A refund happens after its purchase and not after now (within the clock skew)."""
    if occurred_at.tzinfo is None:
        raise InvalidPurchase("occurredAt needs a time zone", field=("occurredAt",))
    if occurred_at > now + FUTURE_TOLERANCE:
        raise InvalidPurchase("occurredAt is in the future", field=("occurredAt",))
    if occurred_at < purchase.occurred_at:
        raise InvalidPurchase("occurredAt is before the purchase", field=("occurredAt",))


async def _purchase_for_update(session: AsyncSession, request: RefundRequest) -> PurchaseRecord:
    row = (
        await session.execute(
            select(purchases)
            .where(
                purchases.c.store_id == request.store_id.strip(),
                purchases.c.receipt_no == request.receipt_no.strip(),
            )
            .with_for_update()
        )
    ).one_or_none()
    if row is None:
        raise PurchaseNotFound(
            f"no purchase {request.store_id}/{request.receipt_no}", field=("receiptNo",)
        )
    return purchase_from_row(row)


async def refund_purchase(
    session: AsyncSession,
    request: RefundRequest,
    *,
    now: datetime,
    config: LedgerConfig,
) -> RefundOutcome:
    _check(request)
    purchase = await _purchase_for_update(session, request)
    earlier = (
        await session.execute(
            text(
                "SELECT purchase_id, amount, points_clawed_back FROM refunds"
                " WHERE store_id = :store AND refund_no = :refund"
            ),
            {"store": purchase.store_id, "refund": request.refund_no.strip()},
        )
    ).one_or_none()
    if earlier is not None:
        if earlier.purchase_id != purchase.id or earlier.amount != request.amount:
            raise RefundNumberReused(
                f"refund {request.refund_no} was recorded for another amount or purchase",
                field=("refundNo",),
            )
        return RefundOutcome(purchase, earlier.points_clawed_back, replayed=True)
    _check_date(request.occurred_at, purchase, now)
    remaining = purchase.amount - purchase.refunded_amount
    if request.amount > remaining:
        raise InvalidPurchase(
            f"{request.amount} is more than the {remaining} left to refund", field=("amount",)
        )
    refunded_total = purchase.refunded_amount + request.amount
    clawed_before = int(
        await session.scalar(
            text(
                "SELECT coalesce(sum(points_clawed_back), 0) FROM refunds"
                " WHERE purchase_id = :purchase"
            ),
            {"purchase": purchase.id},
        )
    )
    share = 0
    if purchase.amount > 0:
        share = int(purchase.points_earned * refunded_total / purchase.amount) - clawed_before
    refund_id = await session.scalar(
        text(
            "INSERT INTO refunds (purchase_id, member_id, store_id, refund_no, amount,"
            " occurred_at, recorded_at) VALUES (:purchase, :member, :store, :refund, :amount,"
            " :occurred, :now) ON CONFLICT (store_id, refund_no) DO NOTHING RETURNING id"
        ),
        {
            "purchase": purchase.id,
            "member": purchase.member_id,
            "store": purchase.store_id,
            "refund": request.refund_no.strip(),
            "amount": request.amount,
            "occurred": request.occurred_at,
            "now": now,
        },
    )
    if refund_id is None:
        raise ReceiptRecordedConcurrently(f"refund {request.refund_no}")
    clawed = 0
    if purchase.member_id is not None and share > 0:
        clawed = await _claw_back(session, purchase, share, now=now, config=config)
    status = "REFUNDED" if refunded_total == purchase.amount else "PARTIALLY_REFUNDED"
    if purchase.status in ("HELD", "REJECTED"):
        status = purchase.status
    await session.execute(
        text("UPDATE refunds SET points_clawed_back = :points WHERE id = :id"),
        {"points": clawed, "id": refund_id},
    )
    row = (
        await session.execute(
            update(purchases)
            .where(purchases.c.id == purchase.id)
            .values(refunded_amount=refunded_total, status=status)
            .returning(*purchases.c)
        )
    ).one()
    if refunded_total == purchase.amount:
        # The whole purchase came back: so do its coupons still within their validity.
        await return_coupons(session, purchase.id, now=now, actor="refund")
    await publish(
        session,
        PurchaseRefunded(
            member_id=purchase.member_id,
            purchase_id=purchase.id,
            refund_no=request.refund_no.strip(),
            amount=request.amount,
            refunded_total=refunded_total,
            points_clawed_back=clawed,
            status=status,
        ),
    )
    return RefundOutcome(purchase_from_row(row), clawed)


async def _claw_back(
    session: AsyncSession,
    purchase: PurchaseRecord,
    points: int,
    *,
    now: datetime,
    config: LedgerConfig,
) -> int:
    """Take ``points`` back: from what the purchase still holds (held, or pending in its
    own lot), the rest from AVAILABLE, which may go negative (a debt)."""
    assert purchase.member_id is not None
    await lock_members(session, [purchase.member_id])
    reference = f"purchase {purchase.store_id}/{purchase.receipt_no}"
    lots = await session.execute(
        text(
            "SELECT e.id, e.bucket, e.held_for, coalesce(l.remaining, e.amount) AS remaining"
            " FROM ledger_entries e LEFT JOIN points_lots l ON l.entry_id = e.id"
            " WHERE e.member_id = :member AND e.reference = :reference AND e.amount > 0"
            " AND e.kind = 'EARN' AND e.bucket IN ('PENDING', 'HELD') ORDER BY e.id"
        ),
        {"member": purchase.member_id, "reference": reference},
    )
    balances = dict(
        (
            await session.execute(
                text("SELECT bucket, balance FROM points_balances WHERE member_id = :member"),
                {"member": purchase.member_id},
            )
        ).all()
    )
    common = {
        "member_id": purchase.member_id,
        "kind": EntryKind.CLAWBACK,
        "channel": LedgerChannel(purchase.channel),
        "store_id": purchase.store_id,
        "reference": reference,
    }
    requests: list[EntryRequest] = []
    left = points
    for lot in lots:
        if left == 0:
            break
        bucket = Bucket(lot.bucket)
        take = min(left, lot.remaining, balances.get(bucket.value, 0))
        if take <= 0:
            continue
        requests.append(
            EntryRequest(
                amount=-take,
                bucket=bucket,
                consumes_lot=lot.id if bucket is Bucket.PENDING else None,
                held_for=Bucket(lot.held_for) if lot.held_for else None,
                **common,
            )
        )
        balances[bucket.value] = balances.get(bucket.value, 0) - take
        left -= take
    if left > 0:
        requests.append(EntryRequest(amount=-left, bucket=Bucket.AVAILABLE, **common))
    await post_entries(
        session=session, requests=requests, now=now, config=config, operation="clawback"
    )
    return points

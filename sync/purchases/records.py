"""Purchases as the rest of the hub reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any


@dataclass(frozen=True)
class PurchaseRecord:
    id: int
    member_id: int | None
    store_id: str
    receipt_no: str
    channel: str
    operator_id: str | None
    amount: Decimal
    refunded_amount: Decimal
    occurred_at: datetime
    recorded_at: datetime
    points_earned: int
    status: str
    has_promotion: bool
    content_hash: bytes
    rule_version: str
    tier_code: str | None
    business_day: date
    review_id: int | None
    #: Codes of the anti-fraud rules that fired when it was recorded.
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class PurchaseItemRecord:
    purchase_id: int
    line_no: int
    sku: str
    category: str | None
    quantity: int
    unit_price: Decimal


def purchase_from_row(row: Any) -> PurchaseRecord:
    return PurchaseRecord(
        id=row.id,
        member_id=row.member_id,
        store_id=row.store_id,
        receipt_no=row.receipt_no,
        channel=row.channel,
        operator_id=row.operator_id,
        amount=row.amount,
        refunded_amount=row.refunded_amount,
        occurred_at=row.occurred_at,
        recorded_at=row.recorded_at,
        points_earned=row.points_earned,
        status=row.status,
        has_promotion=row.has_promotion,
        content_hash=bytes(row.content_hash),
        rule_version=row.rule_version,
        tier_code=row.tier_code,
        business_day=row.business_day,
        review_id=row.review_id,
        reasons=tuple(row.fraud_reasons or ()),
    )


def item_from_row(row: Any) -> PurchaseItemRecord:
    return PurchaseItemRecord(
        purchase_id=row.purchase_id,
        line_no=row.line_no,
        sku=row.sku,
        category=row.category,
        quantity=row.quantity,
        unit_price=row.unit_price,
    )

"""Purchases as the rest of the hub reads them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sync.rows import record_from


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
    return record_from(
        PurchaseRecord,
        row,
        content_hash=bytes(row.content_hash),
        reasons=tuple(row.fraud_reasons or ()),
    )


def item_from_row(row: Any) -> PurchaseItemRecord:
    return record_from(PurchaseItemRecord, row)

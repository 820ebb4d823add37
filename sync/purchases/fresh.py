"""A new purchase of a run, as it is priced and judged, and its row stored: the run
(``sync.purchases.runs``) fills in its tier, price and posting, then ``insert_purchases``
writes the run's rows in one statement.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal
from types import SimpleNamespace
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.checks import ACCEPTED
from ledger.multirow import MultiRowInsert
from ledger.posting import PostingResult
from sync.purchases.pricing import PricedPurchase, kept_on_row
from sync.purchases.records import PurchaseRecord, purchase_from_row
from sync.purchases.requests import PurchaseRequest, ReceiptRecordedConcurrently, content_hash
from sync.purchases.rows import settled, tier_code_of
from sync.tiers import TierProgramme


@dataclass
class FreshPurchase:
    """A new purchase of the run, as it is priced and judged."""

    request: PurchaseRequest
    buyer: int | None
    day: date
    city: str | None = None
    tier_code: str | None = None
    earning: PricedPurchase | None = None
    posted: PostingResult | None = None

    @property
    def points(self) -> int:
        assert self.earning is not None
        return self.earning.points


_PURCHASES = MultiRowInsert(
    "purchases",
    {
        "member_id": "bigint",
        "store_id": "text",
        "receipt_no": "text",
        "channel": "text",
        "operator_id": "text",
        "amount": "numeric",
        "occurred_at": "timestamptz",
        "recorded_at": "timestamptz",
        "status": "text",
        "has_promotion": "boolean",
        "content_hash": "bytea",
        "rule_version": "text",
        "tier_code": "text",
        "business_day": "date",
        "points_earned": "int",
        "base_points": "int",
        "tier_points": "int",
        "review_id": "bigint",
        "fraud_reasons": "text[]",
    },
    # Receipts in key order, so two runs sharing receipts cannot deadlock on them.
    suffix="ORDER BY store_id, receipt_no ON CONFLICT (store_id, receipt_no) DO NOTHING"
    " RETURNING store_id, receipt_no, id",
)
CENT = Decimal("0.01")


def _purchase_values(f: FreshPurchase, now: datetime, programme: TierProgramme) -> dict[str, Any]:
    request, earning = f.request, f.earning
    assert earning is not None
    decision = f.posted.decision if f.posted is not None else ACCEPTED
    points, status = settled(decision, f.points if f.buyer is not None else 0)
    base_points, tier_points = kept_on_row(earning)
    return {
        "member_id": f.buyer,
        "store_id": request.store_id,
        "receipt_no": request.receipt_no,
        "channel": request.channel.value,
        "operator_id": request.operator_id,
        "amount": request.amount,
        "occurred_at": request.occurred_at,
        "recorded_at": now,
        "status": status,
        "has_promotion": earning.has_promotion,
        "content_hash": content_hash(request, f.buyer),
        "rule_version": earning.rule_version,
        "tier_code": tier_code_of(programme, f.tier_code, f.buyer),
        "business_day": f.day,
        "points_earned": points,
        "base_points": base_points,
        "tier_points": tier_points,
        "review_id": f.posted.review_id if f.posted is not None else None,
        "fraud_reasons": decision.reasons,
    }


async def insert_purchases(
    session: AsyncSession, fresh: list[FreshPurchase], *, now: datetime, programme: TierProgramme
) -> list[PurchaseRecord]:
    """The purchases stored with their final points and status, in ``fresh``'s order."""
    values = [_purchase_values(f, now, programme) for f in fresh]
    ids = {
        (row.store_id, row.receipt_no): row.id for row in await _PURCHASES.execute(session, values)
    }
    if len(ids) < len(fresh):
        taken = next(
            f.request for f in fresh if (f.request.store_id, f.request.receipt_no) not in ids
        )
        raise ReceiptRecordedConcurrently(f"{taken.store_id}/{taken.receipt_no}")
    return [_stored(v, ids[(v["store_id"], v["receipt_no"])]) for v in values]


def _stored(values: dict[str, Any], purchase_id: int) -> PurchaseRecord:
    """The purchase as reading its row back answers it: only the ids come back from the
    INSERT, and the columns keep amounts to the cent and times in UTC."""
    row = {
        **values,
        "id": purchase_id,
        "amount": values["amount"].quantize(CENT),
        "refunded_amount": Decimal("0.00"),
        "occurred_at": values["occurred_at"].astimezone(UTC),
        "recorded_at": values["recorded_at"].astimezone(UTC),
    }
    return purchase_from_row(SimpleNamespace(**row))

"""What a recorded purchase becomes: its price in points, its item rows (``insert_items``
writes any number in one statement), its pending credit, the facts the anti-fraud rules
read, its status under their decision, its event. Used by the run
path (``sync.purchases.runs``) every purchase goes through.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from ledger.checks import ACCEPTED, Decision, FraudOutcome
from ledger.earning import settles_at
from ledger.model import Bucket, EntryKind, EntryRequest
from ledger.model import Channel as LedgerChannel
from ledger.multirow import MultiRowInsert
from sync.purchases.records import PurchaseRecord
from sync.purchases.requests import (
    DuplicateReceipt,
    IngestConfig,
    PurchaseOutcome,
    PurchaseRecorded,
    PurchaseRequest,
    content_hash,
)
from sync.tiers import TierProgramme


def tier_code_of(programme: TierProgramme, code: str | None, member_id: int | None) -> str | None:
    """The tier a purchase is priced at, as stored: none for a purchase without a member."""
    return programme.get(code).code if member_id is not None else None


def item_rows(
    purchase_id: int, member_id: int | None, request: PurchaseRequest
) -> list[dict[str, Any]]:
    return [
        {
            "purchase_id": purchase_id,
            "line_no": n,
            "member_id": member_id,
            "sku": item.sku.strip(),
            "category": item.category,
            "quantity": item.quantity,
            "unit_price": item.unit_price,
        }
        for n, item in enumerate(request.items, start=1)
    ]


_ITEMS = MultiRowInsert(
    "purchase_items",
    {
        "purchase_id": "bigint",
        "line_no": "int",
        "member_id": "bigint",
        "sku": "text",
        "category": "text",
        "quantity": "int",
        "unit_price": "numeric",
    },
)


async def insert_items(session: AsyncSession, rows: list[dict[str, Any]]) -> None:
    """Write ``item_rows`` of any number of purchases in one statement."""
    if rows:
        await _ITEMS.execute(session, rows)


def earn_entry(
    request: PurchaseRequest, member_id: int, points: int, config: IngestConfig
) -> EntryRequest:
    """The pending credit a purchase earns, settling T+``settlement_days``."""
    return EntryRequest(
        member_id=member_id,
        kind=EntryKind.EARN,
        bucket=Bucket.PENDING,
        amount=points,
        channel=LedgerChannel(request.channel.value),
        store_id=request.store_id,
        reference=f"purchase {request.store_id}/{request.receipt_no}",
        available_at=settles_at(
            request.occurred_at, days=config.earning.settlement_days, zone=config.ledger.zone
        ),
    )


def fraud_facts(
    request: PurchaseRequest,
    *,
    member_id: int,
    purchase_id: int | None,
    day: date,
    city: str | None,
) -> dict[str, Any]:
    """What the anti-fraud rules read of a purchase (see ``ledger.fraud``)."""
    facts: dict[str, Any] = {
        "member_id": member_id,
        "amount": str(request.amount),
        "business_day": day,
        "operator_id": request.operator_id,
        "city": city,
        "occurred_at": request.occurred_at,
    }
    if purchase_id is not None:
        facts["purchase_id"] = purchase_id
    return facts


def settled(decision: Decision, points: int) -> tuple[int, str]:
    """The points a purchase keeps and its status under the anti-fraud decision."""
    if decision.outcome is FraudOutcome.REJECTED:
        return 0, "REJECTED"
    return points, "HELD" if decision.outcome is FraudOutcome.HELD else "COMPLETED"


def recorded_event(purchase: PurchaseRecord) -> PurchaseRecorded:
    return PurchaseRecorded(
        member_id=purchase.member_id,
        purchase_id=purchase.id,
        store_id=purchase.store_id,
        receipt_no=purchase.receipt_no,
        channel=purchase.channel,
        amount=purchase.amount,
        occurred_at=purchase.occurred_at,
        points_earned=purchase.points_earned,
        status=purchase.status,
    )


def stored_decision(purchase: PurchaseRecord) -> Decision:
    """The decision a stored purchase was given, for a replay."""
    if purchase.status == "REJECTED":
        return Decision(FraudOutcome.REJECTED, purchase.reasons)
    if purchase.review_id is not None:
        return Decision(FraudOutcome.HELD, purchase.reasons)
    return ACCEPTED


def replay(
    earlier: PurchaseRecord, request: PurchaseRequest, buyer: int | None
) -> PurchaseOutcome | DuplicateReceipt:
    """A receipt submitted again: the first result when the content is the same, else
    DUPLICATE_RECEIPT (nothing is written either way)."""
    if earlier.content_hash != content_hash(request, buyer):
        return DuplicateReceipt(
            f"receipt {request.store_id}/{request.receipt_no} was already claimed"
            " with other content",
            field=("receiptNo",),
        )
    return PurchaseOutcome(earlier, stored_decision(earlier), replayed=True)

"""What a till, a shop or an import submits as a purchase, and what checks it before any
write: the fields, and the content that makes two submissions of one receipt the same."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from bus.hooks import DomainEvent
from identity.model import Channel, IdentityConfig, RawIdentity
from ledger.benefits.till import Claimed
from ledger.checks import Decision
from ledger.earning import EarningRules
from ledger.model import LedgerConfig
from sync.purchases.records import PurchaseRecord
from sync.tiers import TierProgramme

#: A purchase dated further ahead than this is a clock or input error.
FUTURE_TOLERANCE = timedelta(minutes=5)
MAX_ITEMS = 500


class PurchaseError(Exception):
    code = "INVALID_INPUT"

    def __init__(self, message: str, *, field: Sequence[str] | None = None) -> None:
        super().__init__(message)
        self.field = tuple(field) if field is not None else None


class InvalidPurchase(PurchaseError):
    pass


class DuplicateReceipt(PurchaseError):
    code = "DUPLICATE_RECEIPT"


class ReceiptRecordedConcurrently(Exception):
    """Another transaction stored the receipt first: retry, and the retry replays it."""

    retryable = True


@dataclass(frozen=True)
class Item:
    sku: str
    quantity: int
    unit_price: Decimal
    category: str | None = None


@dataclass(frozen=True)
class PurchaseRequest:
    store_id: str
    receipt_no: str
    channel: Channel
    occurred_at: datetime
    amount: Decimal
    member_id: int | None = None
    identities: tuple[RawIdentity, ...] = ()
    operator_id: str | None = None
    items: tuple[Item, ...] = ()
    #: Coupons used on the purchase, redeemed in its transaction.
    coupon_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class IngestConfig:
    earning: EarningRules
    tiers: TierProgramme
    ledger: LedgerConfig
    identity: IdentityConfig


@dataclass(frozen=True)
class PurchaseOutcome:
    purchase: PurchaseRecord
    decision: Decision
    replayed: bool = False
    #: The coupons the purchase redeemed (a replay answers the first time's).
    coupons: tuple[Claimed, ...] = ()


@dataclass(frozen=True, kw_only=True)
class PurchaseRecorded(DomainEvent):
    event_type = "purchase.recorded"
    purchase_id: int
    store_id: str
    receipt_no: str
    channel: str
    amount: Decimal
    occurred_at: datetime
    points_earned: int
    status: str


MAX_COUPONS = 20


def validate_purchase(request: PurchaseRequest, *, now: datetime) -> PurchaseRequest:
    """The request trimmed, or InvalidPurchase naming the first bad field."""
    store_id, receipt_no = request.store_id.strip(), request.receipt_no.strip()
    if not store_id:
        raise InvalidPurchase("storeId is required", field=("storeId",))
    if not receipt_no or len(receipt_no) > 100:
        raise InvalidPurchase("receiptNo needs 1 to 100 characters", field=("receiptNo",))
    if request.amount < 0 or request.amount != request.amount.quantize(Decimal("0.01")):
        raise InvalidPurchase("amount must be >= 0 with at most 2 decimals", field=("amount",))
    if request.amount >= Decimal("1e12"):
        raise InvalidPurchase("amount is too large", field=("amount",))
    if request.occurred_at.tzinfo is None:
        raise InvalidPurchase("occurredAt needs a time zone", field=("occurredAt",))
    if request.occurred_at > now + FUTURE_TOLERANCE:
        raise InvalidPurchase("occurredAt is in the future", field=("occurredAt",))
    if request.member_id is not None and request.identities:
        raise InvalidPurchase("give memberId or identities, not both", field=("memberId",))
    if len(request.items) > MAX_ITEMS:
        raise InvalidPurchase(f"at most {MAX_ITEMS} items", field=("items",))
    if len(request.coupon_codes) > MAX_COUPONS:
        raise InvalidPurchase(f"at most {MAX_COUPONS} coupons", field=("couponCodes",))
    for index, item in enumerate(request.items):
        where = ("items", str(index))
        if not item.sku.strip():
            raise InvalidPurchase("sku is required", field=(*where, "sku"))
        if item.quantity <= 0:
            raise InvalidPurchase("quantity must be positive", field=(*where, "quantity"))
        if item.unit_price < 0 or item.unit_price != item.unit_price.quantize(Decimal("0.01")):
            raise InvalidPurchase(
                "unitPrice must be >= 0 with at most 2 decimals", field=(*where, "unitPrice")
            )
    return PurchaseRequest(
        store_id=store_id,
        receipt_no=receipt_no,
        channel=request.channel,
        occurred_at=request.occurred_at,
        amount=request.amount,
        member_id=request.member_id,
        identities=request.identities,
        operator_id=(request.operator_id or "").strip() or None,
        items=request.items,
        coupon_codes=request.coupon_codes,
    )


def content_hash(request: PurchaseRequest, member_id: int | None) -> bytes:
    """What makes two submissions of a receipt the same purchase: amount, member, items."""
    content = {
        "amount": str(request.amount),
        "member": member_id,
        "items": [
            [i.sku.strip(), i.category, i.quantity, str(i.unit_price)] for i in request.items
        ],
    }
    return hashlib.sha256(_COMPACT_JSON.encode(content).encode()).digest()


#: What ``json.dumps(content, separators=(",", ":"))`` writes (the text stored hashes were made
#: of), with the encoder built once rather than for every purchase.
_COMPACT_JSON = json.JSONEncoder(separators=(",", ":"))

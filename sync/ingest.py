"""Recording purchases from every channel: the till, the mini-program shop, the web shop.

One purchase is one transaction: find (or enrol) the buyer, store the purchase and its
items, price it by the earning rules at the buyer's tier of that moment, post the points
through the ledger's posting path (where the anti-fraud checks run), upgrade the tier when
the spend now qualifies, and write ``purchase.recorded``.

(storeId, receiptNo) is the idempotency key across channels: the same receipt with the same
content (amount, member, items) answers the first result; with other content it is
DUPLICATE_RECEIPT and nothing is written.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import insert, select, text, update
from sqlalchemy.ext.asyncio import AsyncSession

from identity.errors import IdentityConflict, InvalidIdentity
from identity.errors import MemberNotFound as UnknownMember
from identity.hooks import DomainEvent, hooks
from identity.lookup import active_member_id, member_by_identity
from identity.model import Channel, IdentityConfig, RawIdentity, normalise
from identity.resolve import Outcome, identify
from ledger.checks import ACCEPTED, Decision, FraudOutcome
from ledger.earning import EarningRules, Line, purchase_points, settles_at
from ledger.fraud import PURCHASE
from ledger.model import Bucket, EntryKind, EntryRequest, LedgerConfig, business_day
from ledger.model import Channel as LedgerChannel
from ledger.posting import lock_members, post_entries
from sync.purchase_records import PurchaseRecord, purchase_from_row
from sync.purchase_tables import purchase_items, purchases
from sync.stores import ensure_store
from sync.tiers import TierProgramme, tier_at, upgrade_after_purchase

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


def _clean(request: PurchaseRequest, *, now: datetime) -> PurchaseRequest:
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
    return hashlib.sha256(json.dumps(content, separators=(",", ":")).encode()).digest()


async def _existing(session: AsyncSession, request: PurchaseRequest) -> PurchaseRecord | None:
    row = (
        await session.execute(
            select(purchases).where(
                purchases.c.store_id == request.store_id,
                purchases.c.receipt_no == request.receipt_no,
            )
        )
    ).one_or_none()
    return None if row is None else purchase_from_row(row)


async def _known_buyer(
    session: AsyncSession, request: PurchaseRequest, config: IdentityConfig
) -> int | None:
    """The buyer as things stand, writing nothing (for comparing with a stored receipt)."""
    if request.member_id is not None:
        return await active_member_id(session, request.member_id)
    for raw in request.identities:
        try:
            key = normalise(raw, region=config.phone_region)
        except InvalidIdentity:
            continue
        found = await member_by_identity(session.execute, key)
        if found is not None:
            return found.id
    return None


async def _buyer(
    session: AsyncSession,
    request: PurchaseRequest,
    *,
    may_enrol: bool,
    actor: str,
    now: datetime,
    config: IdentityConfig,
) -> int | None:
    if request.member_id is not None:
        member_id = await active_member_id(session, request.member_id)
        if member_id is None:
            raise UnknownMember(f"no active member {request.member_id}", field=("memberId",))
        return member_id
    if not request.identities:
        return None
    # identify's errors already name their place under ``identities``.
    result = await identify(
        session,
        identities=request.identities,
        channel=request.channel,
        create_if_missing=may_enrol,
        actor=actor,
        now=now,
        config=config,
    )
    if result.outcome is Outcome.CONFLICT or result.member is None:
        raise IdentityConflict(
            "these identities belong to different members; an operator reviews them",
            field=("identities",),
        )
    return result.member.id


async def record_purchase(
    session: AsyncSession,
    request: PurchaseRequest,
    *,
    may_enrol: bool,
    actor: str,
    now: datetime,
    config: IngestConfig,
) -> PurchaseOutcome:
    """Record one purchase in the caller's transaction (see the module's docstring).

    Raises InvalidPurchase, DuplicateReceipt, identity errors (unknown member, conflict)
    before writing anything.
    """
    request = _clean(request, now=now)
    existing = await _existing(session, request)
    if existing is not None:
        buyer = await _known_buyer(session, request, config.identity)
        if bytes(existing.content_hash) != content_hash(request, buyer):
            raise DuplicateReceipt(
                f"receipt {request.store_id}/{request.receipt_no} was already claimed"
                " with other content",
                field=("receiptNo",),
            )
        return PurchaseOutcome(existing, _decision_of(existing), replayed=True)

    member_id = await _buyer(
        session, request, may_enrol=may_enrol, actor=actor, now=now, config=config.identity
    )
    store = await ensure_store(session, request.store_id, now=now)
    if member_id is not None:
        # One member's purchases queue here: velocity, tiers and points see each other.
        await lock_members(session, [member_id])
    zone = config.ledger.zone
    day = business_day(request.occurred_at, zone)
    tier_code = await tier_at(session, member_id, request.occurred_at) if member_id else None
    tier = config.tiers.get(tier_code)
    earning = purchase_points(
        amount=request.amount,
        lines=[Line(i.sku, i.category, i.quantity, i.unit_price) for i in request.items],
        tier_multiplier=tier.multiplier,
        day=day,
        rules=config.earning,
    )
    purchase_id = await session.scalar(
        text(
            "INSERT INTO purchases (member_id, store_id, receipt_no, channel, operator_id,"
            " amount, occurred_at, recorded_at, status, has_promotion, content_hash,"
            " rule_version, tier_code, business_day) VALUES (:member, :store, :receipt,"
            " :channel, :operator, :amount, :occurred, :now, 'COMPLETED', :promotion, :hash,"
            " :rule, :tier, :day) ON CONFLICT (store_id, receipt_no) DO NOTHING RETURNING id"
        ),
        {
            "member": member_id,
            "store": request.store_id,
            "receipt": request.receipt_no,
            "channel": request.channel.value,
            "operator": request.operator_id,
            "amount": request.amount,
            "occurred": request.occurred_at,
            "now": now,
            "promotion": earning.has_promotion,
            "hash": content_hash(request, member_id),
            "rule": earning.rule_version,
            "tier": tier.code if member_id else None,
            "day": day,
        },
    )
    if purchase_id is None:
        raise ReceiptRecordedConcurrently(f"{request.store_id}/{request.receipt_no}")
    if request.items:
        await session.execute(
            insert(purchase_items),
            [
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
            ],
        )
    decision, points, status, review_id = ACCEPTED, 0, "COMPLETED", None
    if member_id is not None and earning.points > 0:
        posted = await post_entries(
            session=session,
            requests=[
                EntryRequest(
                    member_id=member_id,
                    kind=EntryKind.EARN,
                    bucket=Bucket.PENDING,
                    amount=earning.points,
                    channel=LedgerChannel(request.channel.value),
                    store_id=request.store_id,
                    reference=f"purchase {request.store_id}/{request.receipt_no}",
                    available_at=settles_at(
                        request.occurred_at, days=config.earning.settlement_days, zone=zone
                    ),
                )
            ],
            now=now,
            config=config.ledger,
            operation=PURCHASE,
            attributes={
                "purchase_id": purchase_id,
                "amount": str(request.amount),
                "business_day": day,
                "operator_id": request.operator_id,
                "city": store.city,
                "occurred_at": request.occurred_at,
            },
        )
        decision, review_id = posted.decision, posted.review_id
        if decision.outcome is FraudOutcome.REJECTED:
            status = "REJECTED"
        else:
            points = earning.points
            status = "HELD" if decision.outcome is FraudOutcome.HELD else "COMPLETED"
    row = (
        await session.execute(
            update(purchases)
            .where(purchases.c.id == purchase_id)
            .values(
                points_earned=points,
                status=status,
                review_id=review_id,
                fraud_reasons=list(decision.reasons),
            )
            .returning(*purchases.c)
        )
    ).one()
    if member_id is not None and status == "COMPLETED":
        await upgrade_after_purchase(session, member_id, now=now, programme=config.tiers)
    record = purchase_from_row(row)
    await hooks.publish(
        session,
        PurchaseRecorded(
            member_id=member_id,
            purchase_id=purchase_id,
            store_id=request.store_id,
            receipt_no=request.receipt_no,
            channel=request.channel.value,
            amount=request.amount,
            occurred_at=request.occurred_at,
            points_earned=points,
            status=status,
        ),
    )
    return PurchaseOutcome(record, decision)


def _decision_of(purchase: PurchaseRecord) -> Decision:
    """The decision a stored purchase was given, for a replay."""
    if purchase.status == "REJECTED":
        return Decision(FraudOutcome.REJECTED, purchase.reasons)
    if purchase.review_id is not None:
        return Decision(FraudOutcome.HELD, purchase.reasons)
    return ACCEPTED

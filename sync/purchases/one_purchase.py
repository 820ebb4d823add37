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

from datetime import datetime

from sqlalchemy import text, update
from sqlalchemy.ext.asyncio import AsyncSession

from identity.errors import IdentityConflict, InvalidIdentity
from identity.errors import MemberNotFound as UnknownMember
from identity.hooks import hooks
from identity.lookup import active_member_id, member_by_identity
from identity.model import IdentityConfig, normalise
from identity.resolve import Outcome, identify
from ledger.checks import ACCEPTED
from ledger.fraud import PURCHASE
from ledger.model import business_day
from ledger.posting import lock_members, post_entries
from sync.purchases.buyers import note_buyer_identities
from sync.purchases.queries import purchase_by_receipt
from sync.purchases.records import purchase_from_row
from sync.purchases.requests import (
    DuplicateReceipt,
    IngestConfig,
    PurchaseOutcome,
    PurchaseRequest,
    ReceiptRecordedConcurrently,
    content_hash,
    validate_purchase,
)
from sync.purchases.rows import (
    earn_entry,
    fraud_facts,
    insert_items,
    item_rows,
    price_purchase,
    recorded_event,
    replay,
    settled,
    tier_code_of,
)
from sync.purchases.tables import purchases
from sync.stores import ensure_store
from sync.tiers import tier_at, upgrade_after_purchase


async def _known_buyer(
    session: AsyncSession, request: PurchaseRequest, config: IdentityConfig
) -> int | None:
    """The buyer as things stand, writing nothing (for comparing with a stored receipt)."""
    if request.member_id is not None:
        return await active_member_id(session.execute, request.member_id)
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
        member_id = await active_member_id(session.execute, request.member_id)
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
    request = validate_purchase(request, now=now)
    existing = await purchase_by_receipt(session.execute, request.store_id, request.receipt_no)
    if existing is not None:
        buyer = await _known_buyer(session, request, config.identity)
        answer = replay(existing, request, buyer)
        if isinstance(answer, DuplicateReceipt):
            raise answer
        return answer

    member_id = await _buyer(
        session, request, may_enrol=may_enrol, actor=actor, now=now, config=config.identity
    )
    store = await ensure_store(session, request.store_id, now=now)
    if member_id is not None:
        # One member's purchases queue here: velocity, tiers and points see each other.
        await lock_members(session, [member_id])
    day = business_day(request.occurred_at, config.ledger.zone)
    tier_code = await tier_at(session, member_id, request.occurred_at) if member_id else None
    earning = price_purchase(request, config.tiers.get(tier_code), day, config)
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
            "tier": tier_code_of(config.tiers, tier_code, member_id),
            "day": day,
        },
    )
    if purchase_id is None:
        raise ReceiptRecordedConcurrently(f"{request.store_id}/{request.receipt_no}")
    await insert_items(session, item_rows(purchase_id, member_id, request))
    if request.identities and member_id is not None:
        await note_buyer_identities(session, purchase_id, request.identities, config.identity)
    decision, review_id = ACCEPTED, None
    if member_id is not None and earning.points > 0:
        posted = await post_entries(
            session=session,
            requests=[earn_entry(request, member_id, earning.points, config)],
            now=now,
            config=config.ledger,
            operation=PURCHASE,
            attributes=fraud_facts(
                request, member_id=member_id, purchase_id=purchase_id, day=day, city=store.city
            ),
        )
        decision, review_id = posted.decision, posted.review_id
    points, status = settled(decision, earning.points if member_id is not None else 0)
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
    await hooks.publish(session, recorded_event(record))
    return PurchaseOutcome(record, decision)

"""How purchases follow other areas' events, in the transaction that publishes them.

- Merges move the merged member's purchases, items and refunds to the survivor (recorded
  per merge in ``purchase_merge_moves``); unmerging moves exactly those back.
- A fraud review's decision settles its purchase: APPROVED counts it again (COMPLETED or
  its refund status), REJECTED marks it REJECTED with no points.
"""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import EventHooks
from identity.events import MembersMerged, MembersUnmerged
from ledger.reviews import FraudDecided


async def move_purchases_on_merge(session: AsyncSession, event: MembersMerged) -> None:
    moved = await session.execute(
        text(
            "WITH p AS (UPDATE purchases SET member_id = :survivor WHERE member_id = :merged"
            "  RETURNING id),"
            " i AS (UPDATE purchase_items SET member_id = :survivor WHERE member_id = :merged),"
            " r AS (UPDATE refunds SET member_id = :survivor WHERE member_id = :merged"
            "  RETURNING id)"
            " SELECT (SELECT coalesce(array_agg(id), '{}') FROM p) AS purchases,"
            "  (SELECT coalesce(array_agg(id), '{}') FROM r) AS refunds"
        ),
        {"survivor": event.member_id, "merged": event.merged_id},
    )
    row = moved.one()
    await session.execute(
        text(
            "INSERT INTO purchase_merge_moves (merge_id, purchase_ids, refund_ids)"
            " VALUES (:merge, :purchases, :refunds) ON CONFLICT (merge_id) DO NOTHING"
        ),
        {"merge": event.merge_id, "purchases": row.purchases, "refunds": row.refunds},
    )


async def return_purchases_on_unmerge(session: AsyncSession, event: MembersUnmerged) -> None:
    await session.execute(
        text(
            "WITH moved AS (SELECT purchase_ids, refund_ids FROM purchase_merge_moves"
            "  WHERE merge_id = :merge),"
            " p AS (UPDATE purchases SET member_id = :restored"
            "  WHERE id IN (SELECT unnest(purchase_ids) FROM moved)),"
            " i AS (UPDATE purchase_items SET member_id = :restored"
            "  WHERE purchase_id IN (SELECT unnest(purchase_ids) FROM moved))"
            " UPDATE refunds SET member_id = :restored"
            " WHERE id IN (SELECT unnest(refund_ids) FROM moved)"
        ),
        {"merge": event.merge_id, "restored": event.restored_id},
    )


async def settle_reviewed_purchase(session: AsyncSession, event: FraudDecided) -> None:
    await session.execute(
        text(
            "UPDATE purchases SET"
            " status = CASE WHEN :status = 'REJECTED' THEN 'REJECTED'"
            "  WHEN refunded_amount = 0 THEN 'COMPLETED'"
            "  WHEN refunded_amount = amount THEN 'REFUNDED' ELSE 'PARTIALLY_REFUNDED' END,"
            " points_earned = CASE WHEN :status = 'REJECTED' THEN 0 ELSE points_earned END"
            " WHERE review_id = :review"
        ),
        {"status": event.status, "review": event.review_id},
    )


def subscribe_purchases(hooks: EventHooks) -> None:
    hooks.subscribe(MembersMerged, move_purchases_on_merge)
    hooks.subscribe(MembersUnmerged, return_purchases_on_unmerge)
    hooks.subscribe(FraudDecided, settle_reviewed_purchase)

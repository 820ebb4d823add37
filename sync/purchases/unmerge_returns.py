"""What an unmerge gives back beyond what the merge moved: purchases made with the restored
member's own identities while the merge stood, with their points, and the clawbacks of
refunds of the restored member's purchases.

- A till that named the buyer by the merged member's card while the merge stood recorded
  the purchase on the survivor. If every identity it was named by (``purchase_buyer_
  identities``) goes back with the unmerge, the purchase, its items and refunds go back too,
  and its points (``ledger.purchase_transfers.transfer_earnings``).
- A refund recorded while the merge stood clawed back from the survivor, then holding the
  purchase; the clawback follows the purchase (``ledger.purchase_transfers.transfer_clawbacks``).

Runs after ``sync.purchases.subscriptions`` has returned the purchases the merge moved.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import EventHooks
from identity.events import MembersUnmerged
from ledger.model import LedgerConfig
from ledger.purchase_transfers import transfer_clawbacks, transfer_earnings

#: Purchases the holder got while the merge stood, named only by identities that go back.
_RETURN_PURCHASES = text(
    "WITH merge AS (SELECT created_at, moved_identity_ids FROM member_merges WHERE id = :merge),"
    " p AS (UPDATE purchases SET member_id = :restored FROM merge, purchase_buyer_identities b"
    "  WHERE purchases.member_id = :holder AND purchases.recorded_at >= merge.created_at"
    "  AND b.purchase_id = purchases.id AND b.identity_ids <@ merge.moved_identity_ids"
    "  RETURNING purchases.id, purchases.store_id, purchases.receipt_no),"
    " i AS (UPDATE purchase_items SET member_id = :restored"
    "  WHERE purchase_id IN (SELECT id FROM p)),"
    " r AS (UPDATE refunds SET member_id = :restored WHERE purchase_id IN (SELECT id FROM p))"
    " SELECT 'purchase ' || store_id || '/' || receipt_no FROM p"
)
#: The ledger reference of each purchase the merge moved (``purchase <store>/<receipt>``).
_MOVED_REFERENCES = text(
    "SELECT 'purchase ' || p.store_id || '/' || p.receipt_no FROM purchase_merge_moves m"
    " JOIN purchases p ON p.id = ANY(m.purchase_ids) WHERE m.merge_id = :merge"
)


class _UnmergeReturns:
    def __init__(self) -> None:
        self.config = LedgerConfig()
        self.clock: Callable[[], datetime] | None = None

    async def on_unmerged(self, session: AsyncSession, event: MembersUnmerged) -> None:
        assert event.member_id is not None
        holder, restored = event.member_id, event.restored_id
        now = self.clock() if self.clock else await session.scalar(text("SELECT now()"))
        made_while_merged = list(
            await session.scalars(
                _RETURN_PURCHASES,
                {"merge": event.merge_id, "holder": holder, "restored": restored},
            )
        )
        await transfer_earnings(
            session=session,
            from_id=holder,
            to_id=restored,
            references=made_while_merged,
            reason=f"purchase returned by unmerge {event.merge_id}",
            now=now,
            config=self.config,
        )
        moved = list(await session.scalars(_MOVED_REFERENCES, {"merge": event.merge_id}))
        await transfer_clawbacks(
            session=session,
            from_id=holder,
            to_id=restored,
            references=moved + made_while_merged,
            reason=f"refund of a purchase returned by unmerge {event.merge_id}",
            now=now,
            config=self.config,
        )


_handler = _UnmergeReturns()


def subscribe_unmerge_returns(
    hooks: EventHooks, config: LedgerConfig, *, clock: Callable[[], datetime] | None = None
) -> None:
    _handler.config = config
    _handler.clock = clock
    hooks.subscribe(MembersUnmerged, _handler.on_unmerged)

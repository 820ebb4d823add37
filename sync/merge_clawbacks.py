"""Clawbacks follow the purchases an unmerge gives back.

A refund recorded while a merge stood claws the refunded purchase's points back from the
member then holding the purchase, the survivor. Unmerge returns the purchase to the member
it came from (``sync.purchase_subscriptions``); here its clawbacks go with it, so that the
survivor is not left paying for a refund of someone else's purchase.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from identity.events import MembersUnmerged
from identity.hooks import EventHooks
from ledger.merges import transfer_clawbacks
from ledger.model import LedgerConfig

#: The ledger reference of each purchase the merge moved (``purchase <store>/<receipt>``).
_MOVED_REFERENCES = text(
    "SELECT 'purchase ' || p.store_id || '/' || p.receipt_no FROM purchase_merge_moves m"
    " JOIN purchases p ON p.id = ANY(m.purchase_ids) WHERE m.merge_id = :merge"
)


class _ClawbackReturn:
    def __init__(self) -> None:
        self.config = LedgerConfig()
        self.clock: Callable[[], datetime] | None = None

    async def on_unmerged(self, session: AsyncSession, event: MembersUnmerged) -> None:
        assert event.member_id is not None
        references = list(await session.scalars(_MOVED_REFERENCES, {"merge": event.merge_id}))
        now = self.clock() if self.clock else await session.scalar(text("SELECT now()"))
        await transfer_clawbacks(
            session=session,
            from_id=event.member_id,
            to_id=event.restored_id,
            references=references,
            reason=f"refund of a purchase returned by unmerge {event.merge_id}",
            now=now,
            config=self.config,
        )


_handler = _ClawbackReturn()


def subscribe_merge_clawbacks(
    hooks: EventHooks, config: LedgerConfig, *, clock: Callable[[], datetime] | None = None
) -> None:
    _handler.config = config
    _handler.clock = clock
    hooks.subscribe(MembersUnmerged, _handler.on_unmerged)

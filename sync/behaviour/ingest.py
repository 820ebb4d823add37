"""Recording a batch of behaviour events: one statement, whatever the batch's size.

The batch arrives as columns (one list per field), so the statement binds eight arrays
and ``unnest`` turns them back into rows: no per-event SQL, no per-event parameters. The
primary key deduplicates resends (``ON CONFLICT DO NOTHING``); events of a merged member
are filed under the survivor. A batch naming an unknown or erased member writes nothing.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from sync.behaviour.partitions import day_of, ensure_partitions

#: Events of one ``trackEvents`` call.
MAX_BATCH = 500


class BehaviourKind(enum.StrEnum):
    PAGE_VIEW = "PAGE_VIEW"
    VIEW_PRODUCT = "VIEW_PRODUCT"
    SEARCH = "SEARCH"
    ADD_TO_CART = "ADD_TO_CART"
    FAVORITE = "FAVORITE"
    SHARE = "SHARE"
    COMMENT = "COMMENT"


@dataclass
class EventColumns:
    """A batch of events as columns, all of the same length, in the sender's order."""

    member_ids: list[int] = field(default_factory=list)
    event_ids: list[str] = field(default_factory=list)
    kinds: list[str] = field(default_factory=list)
    channels: list[str] = field(default_factory=list)
    occurred_at: list[datetime] = field(default_factory=list)
    skus: list[str | None] = field(default_factory=list)
    categories: list[str | None] = field(default_factory=list)
    queries: list[str | None] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.event_ids)


@dataclass(frozen=True)
class IngestResult:
    accepted: int
    duplicates: int
    #: Positions (from 0) of events naming a member the hub does not hold; nothing was written.
    unknown_members: tuple[int, ...] = ()


_INSERT = text(
    "WITH e AS (SELECT * FROM unnest(CAST(:member_ids AS bigint[]), CAST(:event_ids AS text[]),"
    "  CAST(:kinds AS text[]), CAST(:channels AS text[]), CAST(:occurred_at AS timestamptz[]),"
    "  CAST(:skus AS text[]), CAST(:categories AS text[]), CAST(:queries AS text[]))"
    "  WITH ORDINALITY AS e(member_id, event_id, kind, channel, occurred_at, sku, category,"
    "  query, pos)),"
    " owned AS (SELECT e.*, CASE WHEN m.status = 'ERASED' THEN NULL"
    "  ELSE coalesce(m.merged_into, m.id) END AS owner_id"
    "  FROM e LEFT JOIN members m ON m.id = e.member_id),"
    " missing AS (SELECT pos FROM owned WHERE owner_id IS NULL),"
    " written AS (INSERT INTO behaviour_events (member_id, event_id, kind, channel,"
    "  occurred_at, received_at, sku, category, query)"
    "  SELECT owner_id, event_id, kind, channel, occurred_at, CAST(:now AS timestamptz), sku,"
    "  category, query FROM owned WHERE NOT EXISTS (SELECT 1 FROM missing)"
    "  ON CONFLICT DO NOTHING RETURNING 1)"
    " SELECT (SELECT count(*) FROM written) AS accepted,"
    "  ARRAY(SELECT pos - 1 FROM missing ORDER BY pos) AS missing"
)


async def record_events(
    session: AsyncSession, *, events: EventColumns, now: datetime
) -> IngestResult:
    """Store a validated batch (at most ``MAX_BATCH``) in the caller's transaction."""
    if not len(events):
        return IngestResult(0, 0)
    await ensure_partitions(session, {day_of(at) for at in events.occurred_at})
    row = (
        await session.execute(
            _INSERT,
            {
                "member_ids": events.member_ids,
                "event_ids": events.event_ids,
                "kinds": events.kinds,
                "channels": events.channels,
                "occurred_at": events.occurred_at,
                "skus": events.skus,
                "categories": events.categories,
                "queries": events.queries,
                "now": now,
            },
        )
    ).one()
    if row.missing:
        return IngestResult(0, 0, tuple(row.missing))
    return IngestResult(row.accepted, len(events) - row.accepted)

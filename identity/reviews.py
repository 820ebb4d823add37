"""Identity review cases: identities that tie several members together without the evidence
or within the rules a merge needs, left for an operator (opened by ``identify``)."""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text

from identity.lookup import Execute


class ReviewStatus(enum.StrEnum):
    OPEN = "OPEN"
    RESOLVED = "RESOLVED"


@dataclass(frozen=True)
class IdentityReview:
    id: int
    status: ReviewStatus
    #: NO_VERIFIED_EVIDENCE, or the merge rules the merge would break, comma-separated.
    reason: str
    member_ids: tuple[int, ...]
    identity_ids: tuple[int, ...]
    channel: str
    actor: str
    occurrences: int
    created_at: datetime
    last_seen_at: datetime
    resolved_at: datetime | None


def review_from_row(row: Any) -> IdentityReview:
    return IdentityReview(
        id=row.id,
        status=ReviewStatus(row.status),
        reason=row.reason,
        member_ids=tuple(row.member_ids),
        identity_ids=tuple(row.identity_ids),
        channel=row.channel,
        actor=row.actor,
        occurrences=row.occurrences,
        created_at=row.created_at,
        last_seen_at=row.last_seen_at,
        resolved_at=row.resolved_at,
    )


_BY_IDS = text("SELECT * FROM identity_reviews WHERE id = ANY(CAST(:ids AS bigint[]))")

_LISTED = text(
    "SELECT * FROM identity_reviews WHERE (CAST(:status AS text) IS NULL OR status = :status)"
    " AND (CAST(:after AS bigint) IS NULL OR id > :after) ORDER BY id LIMIT :limit"
)


async def reviews_by_ids(execute: Execute, ids: Sequence[int]) -> list[IdentityReview | None]:
    """The reviews of ``ids``, in that order (None for an unknown one): a dataloader's batch."""
    rows = await execute(_BY_IDS, {"ids": list(ids)})
    found = {row.id: review_from_row(row) for row in rows}
    return [found.get(review_id) for review_id in ids]


async def list_reviews(
    execute: Execute, *, status: ReviewStatus | None, first: int, after: int | None
) -> tuple[list[IdentityReview], bool]:
    """Reviews oldest first (the queue an operator works through), by status."""
    rows = await execute(
        _LISTED,
        {"status": status.value if status else None, "after": after, "limit": first + 1},
    )
    found = [review_from_row(row) for row in rows]
    return found[:first], len(found) > first

"""Fraud reviews: a case for every posting the checks held, decided once by an operator.

Approving releases held credits to where they were going; rejecting cancels them (and gives
back a held redemption). Both append entries through the posting path; the case keeps the
operator, the note and the time.
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import DomainEvent, publish, publish_many
from ledger.errors import LedgerError
from ledger.model import Bucket, Channel, EntryKind, EntryRequest, LedgerConfig, LedgerEntry

OPERATION = "fraud_review"


class ReviewStatus(enum.StrEnum):
    OPEN = "OPEN"
    APPROVED = "APPROVED"
    REJECTED = "REJECTED"


class ReviewDecision(enum.StrEnum):
    APPROVE = "APPROVE"
    REJECT = "REJECT"


class ReviewNotFound(LedgerError):
    code = "NOT_FOUND"


class ReviewAlreadyDecided(LedgerError):
    code = "INVALID_INPUT"


@dataclass(frozen=True)
class Review:
    id: int
    member_id: int
    status: ReviewStatus
    operation: str
    reasons: tuple[str, ...]
    summary: str
    entry_ids: tuple[int, ...]
    created_at: datetime
    decided_at: datetime | None
    decided_by: str | None
    note: str | None


@dataclass(frozen=True, kw_only=True)
class FraudHeld(DomainEvent):
    event_type = "fraud.held"
    review_id: int
    operation: str
    reasons: tuple[str, ...]
    summary: str


@dataclass(frozen=True, kw_only=True)
class FraudDecided(DomainEvent):
    event_type = "fraud.decided"
    review_id: int
    status: str
    decided_by: str


def review_from_row(row: Any) -> Review:
    return Review(
        id=row.id,
        member_id=row.member_id,
        status=ReviewStatus(row.status),
        operation=row.operation,
        reasons=tuple(row.reasons),
        summary=row.summary,
        entry_ids=tuple(row.entry_ids),
        created_at=row.created_at,
        decided_at=row.decided_at,
        decided_by=row.decided_by,
        note=row.note,
    )


@dataclass(frozen=True)
class HeldCase:
    """What a HELD decision posted, for its review case."""

    operation: str
    reasons: tuple[str, ...]
    entries: tuple[LedgerEntry, ...]


async def open_review(
    session: AsyncSession,
    *,
    operation: str,
    reasons: tuple[str, ...],
    entries: tuple[LedgerEntry, ...],
    now: datetime,
) -> int:
    """Record a case for the entries a HELD decision posted."""
    return (await open_reviews(session, [HeldCase(operation, reasons, entries)], now=now))[0]


async def open_reviews(
    session: AsyncSession, cases: Sequence[HeldCase], *, now: datetime
) -> list[int]:
    """Record a case for each, in one statement; answers their IDs in order."""
    summaries = [
        f"{c.entries[0].reference or c.operation}, {sum(abs(e.amount) for e in c.entries):,} points"
        for c in cases
    ]
    rows = await session.execute(
        text(
            "INSERT INTO fraud_reviews"
            " (member_id, operation, reasons, summary, entry_ids, created_at)"
            " SELECT member_id, operation, string_to_array(reasons, ','), summary,"
            " CAST(string_to_array(entry_ids, ',') AS bigint[]), :now"
            " FROM unnest(CAST(:members AS bigint[]), CAST(:operations AS text[]),"
            " CAST(:reasons AS text[]), CAST(:summaries AS text[]), CAST(:entry_ids AS text[]))"
            " AS c(member_id, operation, reasons, summary, entry_ids)"
            " RETURNING id, entry_ids[1] AS first_entry"
        ),
        {
            "members": [c.entries[0].member_id for c in cases],
            "operations": [c.operation for c in cases],
            "reasons": [",".join(c.reasons) for c in cases],
            "summaries": summaries,
            "entry_ids": [",".join(str(e.id) for e in c.entries) for c in cases],
            "now": now,
        },
    )
    # Entry IDs are unique, so a case's first one names it among the returned rows.
    by_first_entry = {row.first_entry: row.id for row in rows}
    review_ids = [int(by_first_entry[c.entries[0].id]) for c in cases]
    await publish_many(
        session,
        [
            FraudHeld(
                member_id=c.entries[0].member_id,
                review_id=review_id,
                operation=c.operation,
                reasons=c.reasons,
                summary=summary,
            )
            for c, review_id, summary in zip(cases, review_ids, summaries, strict=True)
        ],
    )
    return review_ids


async def decide_review(
    session: AsyncSession,
    *,
    review_id: int,
    decision: ReviewDecision,
    actor: str,
    note: str | None,
    now: datetime,
    config: LedgerConfig,
) -> Review:
    """Decide an OPEN case once (the row lock makes a concurrent second decision wait and
    then fail); the entries it appends release or cancel what was held."""
    # The posting path opens cases (it imports this module); deciding one posts through it.
    from ledger.posting import post_entries
    from ledger.queries import entries_by_ids

    row = (
        await session.execute(
            text("SELECT * FROM fraud_reviews WHERE id = :id FOR UPDATE"), {"id": review_id}
        )
    ).one_or_none()
    if row is None:
        raise ReviewNotFound(f"no fraud review {review_id}", field=("id",))
    if row.status != ReviewStatus.OPEN:
        raise ReviewAlreadyDecided(
            f"fraud review {review_id} was already decided ({row.status.lower()})",
            field=("id",),
        )
    held = await entries_by_ids(session, tuple(row.entry_ids))
    requests = [r for entry in held for r in _settlement(entry, decision, now)]
    if requests:
        await post_entries(
            session=session,
            requests=requests,
            now=now,
            config=config,
            operation=OPERATION,
            require_active=False,
        )
    status = ReviewStatus.APPROVED if decision is ReviewDecision.APPROVE else ReviewStatus.REJECTED
    decided = (
        await session.execute(
            text(
                "UPDATE fraud_reviews SET status = :status, decided_at = :now,"
                " decided_by = :actor, note = :note WHERE id = :id RETURNING *"
            ),
            {"status": status.value, "now": now, "actor": actor, "note": note, "id": review_id},
        )
    ).one()
    await publish(
        session,
        FraudDecided(
            member_id=row.member_id, review_id=review_id, status=status.value, decided_by=actor
        ),
    )
    return review_from_row(decided)


def _settlement(entry: LedgerEntry, decision: ReviewDecision, now: datetime) -> list[EntryRequest]:
    common: dict[str, Any] = {
        "member_id": entry.member_id,
        "channel": Channel.ADMIN,
        "store_id": entry.store_id,
        "reference": entry.reference,
        "reverses_id": entry.id,
    }
    if entry.bucket is Bucket.HELD:
        out = EntryRequest(
            held_for=entry.held_for,
            kind=EntryKind.REVERSAL,
            bucket=Bucket.HELD,
            amount=-entry.amount,
            reason=f"fraud review {decision.value.lower()}d",
            **common,
        )
        if decision is ReviewDecision.REJECT:
            return [out]
        target = Bucket(entry.held_for or Bucket.AVAILABLE.value)
        release = EntryRequest(
            kind=entry.kind,
            bucket=target,
            amount=entry.amount,
            reason="released by fraud review",
            # Pending points that were due while held settle with the next run.
            available_at=max(entry.available_at or now, now) if target is Bucket.PENDING else None,
            **common,
        )
        return [out, release]
    if entry.amount < 0 and decision is ReviewDecision.REJECT:
        # A held redemption was posted as asked; rejecting it gives the points back.
        return [
            EntryRequest(
                kind=EntryKind.REVERSAL,
                bucket=entry.bucket,
                amount=-entry.amount,
                reason="redemption rejected by fraud review",
                **common,
            )
        ]
    return []


async def load_reviews(execute: Any, ids: list[int]) -> list[Review | None]:
    rows = await execute(
        text("SELECT * FROM fraud_reviews WHERE id = ANY(:ids)"), {"ids": list(ids)}
    )
    found = {row.id: review_from_row(row) for row in rows}
    return [found.get(i) for i in ids]


async def list_reviews(
    execute: Any, *, status: ReviewStatus | None, first: int, after: int | None
) -> tuple[list[Review], bool]:
    """Reviews oldest first (the queue an operator works through), by status."""
    rows = await execute(
        text(
            "SELECT * FROM fraud_reviews WHERE (CAST(:status AS text) IS NULL OR status = :status)"
            " AND (CAST(:after AS bigint) IS NULL OR id > :after) ORDER BY id LIMIT :limit"
        ),
        {"status": status.value if status else None, "after": after, "limit": first + 1},
    )
    found = [review_from_row(row) for row in rows]
    return found[:first], len(found) > first

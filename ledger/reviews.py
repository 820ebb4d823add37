"""Fraud reviews: a case for every posting the checks held, decided once by an operator.

Approving releases held credits to where they were going; rejecting cancels them (and gives
back a held redemption). Both append entries through the posting path; the case keeps the
operator, the note and the time.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from identity.hooks import DomainEvent, hooks
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


async def open_review(
    session: AsyncSession,
    *,
    operation: str,
    reasons: tuple[str, ...],
    entries: tuple[LedgerEntry, ...],
    now: datetime,
) -> int:
    """Record a case for the entries a HELD decision posted."""
    first = entries[0]
    points = sum(abs(e.amount) for e in entries)
    summary = f"{first.reference or operation}, {points:,} points"
    review_id = await session.scalar(
        text(
            "INSERT INTO fraud_reviews"
            " (member_id, operation, reasons, summary, entry_ids, created_at)"
            " VALUES (:member, :operation, :reasons, :summary, :entries, :now) RETURNING id"
        ),
        {
            "member": first.member_id,
            "operation": operation,
            "reasons": list(reasons),
            "summary": summary,
            "entries": [e.id for e in entries],
            "now": now,
        },
    )
    await hooks.publish(
        session,
        FraudHeld(
            member_id=first.member_id,
            review_id=review_id,
            operation=operation,
            reasons=reasons,
            summary=summary,
        ),
    )
    return int(review_id)


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
    await hooks.publish(
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

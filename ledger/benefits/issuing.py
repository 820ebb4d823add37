"""Issuing coupons to members by ID or to a whole segment, in one INSERT … SELECT.

The template row is locked first (``lock_template``), in a statement of its own: issues of
one template then run one after another, and the INSERT that follows takes its snapshot
after the lock, so it counts every coupon an earlier issue committed. That statement picks
the members (active ones only), leaves out those at the per-member limit, cuts the rest
to the stock left (lowest member IDs first), inserts their coupons and ISSUED events and
takes the stock down. Each coupon's code is drawn in the same statement from the
database's strong random source (``codes.random_bits_sql``): nothing per member crosses
the wire.

Segments are the intelligence room's: the statement reads ``segment_members`` as the
segment stood at its last refresh.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cache

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.benefits.codes import code_sql, random_bits_sql
from ledger.benefits.errors import InvalidBenefit, NotFound
from ledger.benefits.model import CouponSource, CouponTemplate, validity
from ledger.benefits.requests import StoredOutcome, claim_request, record_outcome
from ledger.benefits.templates import lock_template

MAX_MEMBER_IDS = 10_000
MAX_REASON = 500


@dataclass(frozen=True)
class IssueResult:
    issued: int
    skipped: int
    replayed: bool = False
    #: The first coupon issued (the only one when a single member was asked for).
    first_coupon_id: int | None = None


@cache
def _issue_statement(by_segment: bool, limited: bool) -> str:
    candidates = (
        "SELECT s.member_id FROM segment_members s JOIN members m ON m.id = s.member_id"
        " WHERE s.segment_id = :segment AND m.status = 'ACTIVE'"
        if by_segment
        else "SELECT m.id AS member_id FROM members m"
        " WHERE m.id = ANY(CAST(:ids AS bigint[])) AND m.status = 'ACTIVE'"
    )
    # The live coupons per member counted once, joined, rather than a count per candidate:
    # a correlated count planned as a scan (a template with no coupons yet) would scan the
    # rows this very statement inserts, once per member: quadratic in the segment's size.
    under_limit = (
        " LEFT JOIN (SELECT k.member_id, count(*) AS live FROM coupons k"
        "  WHERE k.template_id = :template AND k.status = 'ACTIVE' AND k.valid_until > :now"
        "  GROUP BY k.member_id) k ON k.member_id = c.member_id"
        " WHERE coalesce(k.live, 0) < :limit"
        if limited
        else ""
    )
    return (
        f"WITH candidates AS ({candidates}),"
        " chosen AS (SELECT c.member_id"
        f"  FROM candidates c{under_limit} ORDER BY c.member_id LIMIT :cap),"
        # Each layer fenced (OFFSET 0): one UUID a coupon, its bits read once.
        f" drawn AS (SELECT g.member_id, {random_bits_sql('g.u')} AS bits FROM"
        "  (SELECT member_id, CAST(gen_random_uuid() AS text) AS u FROM chosen OFFSET 0) g"
        "  OFFSET 0),"
        " inserted AS (INSERT INTO coupons (member_id, template_id, code, status, source,"
        "  reason, issued_at, valid_from, valid_until, status_changed_at)"
        f"  SELECT drawn.member_id, :template, {code_sql('drawn.bits')}, 'ACTIVE', :source,"
        "  :reason, :now, :valid_from, :valid_until, :now FROM drawn"
        "  RETURNING id, member_id),"
        " events AS (INSERT INTO coupon_events (coupon_id, member_id, kind, at, actor, reason)"
        "  SELECT id, member_id, 'ISSUED', :now, :actor, :reason FROM inserted),"
        " stock AS (UPDATE coupon_templates SET stock = stock - (SELECT count(*) FROM inserted)"
        "  WHERE id = :template AND stock IS NOT NULL)"
        " SELECT count(*) AS issued, min(id) AS first_id FROM inserted"
    )


def check_reason(reason: str) -> str:
    stripped = reason.strip()
    if not stripped or len(stripped) > MAX_REASON:
        raise InvalidBenefit(f"reason must have 1 to {MAX_REASON} characters", field=("reason",))
    return stripped


async def _candidate_count(
    session: AsyncSession, member_ids: Sequence[int] | None, segment_id: int | None
) -> int:
    if member_ids is not None:
        return len(member_ids)
    found = await session.scalar(
        text(
            "SELECT (SELECT count(*) FROM segment_members WHERE segment_id = :s)"
            " FROM segments WHERE id = :s"
        ),
        {"s": segment_id},
    )
    if found is None:
        raise NotFound(f"no segment {segment_id}", field=("segmentId",))
    return int(found)


def issuable(template: CouponTemplate, now: datetime) -> tuple[datetime, datetime]:
    """The validity coupons issued now get; INVALID_INPUT when the template issues none."""
    if not template.active:
        raise InvalidBenefit(
            f"coupon template {template.code} is not active", field=("templateId",)
        )
    valid_from, valid_until = validity(template, now)
    if valid_until <= valid_from:
        raise InvalidBenefit(f"coupon template {template.code} has ended", field=("templateId",))
    return valid_from, valid_until


async def issue_locked(
    session: AsyncSession,
    template: CouponTemplate,
    *,
    member_ids: Sequence[int] | None,
    segment_id: int | None,
    source: CouponSource,
    reason: str,
    actor: str,
    now: datetime,
) -> IssueResult:
    """Issue to the members of a template this transaction has locked (``lock_template``)."""
    valid_from, valid_until = issuable(template, now)
    wanted = await _candidate_count(session, member_ids, segment_id)
    cap = wanted if template.stock is None else min(wanted, template.stock)
    if cap == 0:
        return IssueResult(issued=0, skipped=wanted)
    statement = _issue_statement(segment_id is not None, template.per_member_limit is not None)
    parameters = {
        "template": template.id,
        "source": source.value,
        "reason": reason,
        "actor": actor,
        "now": now,
        "valid_from": valid_from,
        "valid_until": valid_until,
        "cap": cap,
    }
    if segment_id is not None:
        parameters["segment"] = segment_id
    else:
        parameters["ids"] = list(member_ids or ())
    if template.per_member_limit is not None:
        parameters["limit"] = template.per_member_limit
    row = (await session.execute(text(statement), parameters)).one()
    return IssueResult(issued=row.issued, skipped=wanted - row.issued, first_coupon_id=row.first_id)


async def issue_coupons(
    *,
    session: AsyncSession,
    template_id: int,
    member_ids: Sequence[int] | None,
    segment_id: int | None,
    reason: str,
    key_scope: str,
    key: str,
    actor: str,
    now: datetime,
    source: CouponSource = CouponSource.MANUAL,
) -> IssueResult:
    """Issue one coupon of the template to each member named, or in the segment.

    Members not active, at the template's per-member limit, or beyond its stock are
    skipped (counted, not refused). Raises InvalidBenefit, NotFound and
    IdempotencyConflict, which write nothing.
    """
    if (member_ids is None) == (segment_id is None):
        raise InvalidBenefit("give exactly one of memberIds and segmentId", field=("memberIds",))
    if member_ids is not None:
        member_ids = sorted(set(member_ids))
        if not member_ids or len(member_ids) > MAX_MEMBER_IDS:
            raise InvalidBenefit(
                f"memberIds must name 1 to {MAX_MEMBER_IDS} members", field=("memberIds",)
            )
    reason = check_reason(reason)
    template = await lock_template(session, template_id)
    request = {
        "members": member_ids,
        "segment": segment_id,
        "reason": reason,
        "source": source.value,
    }
    stored = await claim_request(
        session,
        scope=key_scope,
        key=key,
        operation="ISSUE",
        template_id=template_id,
        request=request,
        now=now,
    )
    if stored is not None:
        return IssueResult(issued=stored.issued, skipped=stored.skipped, replayed=True)
    result = await issue_locked(
        session,
        template,
        member_ids=member_ids,
        segment_id=segment_id,
        source=source,
        reason=reason,
        actor=actor,
        now=now,
    )
    await record_outcome(
        session,
        scope=key_scope,
        key=key,
        outcome=StoredOutcome(
            issued=result.issued, skipped=result.skipped, coupon_id=None, points_spent=None
        ),
    )
    return result

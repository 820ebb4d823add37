"""Evaluating running campaigns: assign the members a trigger selects to arms, then act.

One INSERT … SELECT per campaign assigns every member the trigger selects, in the audience,
not capped, to an arm chosen by a hash of (campaign, member): random across members, the
same on every run, so a rerun assigns nobody differently. ``campaign_touches`` is unique per
(campaign, member) and the INSERT skips conflicts, so a member is assigned once, and only
the rows this run inserted get their coupon and points, in the same transaction: a job
killed before it commits did nothing, and a rerun does it all once. Messages wait in the
touch rows (``next_attempt_at``) for ``delivery``, which sends them one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.batch_posting import BatchOperation, post_batch
from ledger.benefits.issuing import issue_locked
from ledger.benefits.model import CouponSource
from ledger.benefits.templates import lock_template
from ledger.model import Bucket, Channel, EntryKind, EntryRequest, LedgerConfig
from ledger.posting import post_entries
from sync.campaigns.model import ArmSpec, Campaign, Outcome, Status, Trigger
from sync.campaigns.store import campaign_from_row, load_arms
from sync.campaigns.triggers import FRAGMENTS

_RUNNING = (
    "SELECT id, name, status, trigger, trigger_days, trigger_category, audience_segment_id,"
    " starts_at, ends_at, frequency_cap_days, conversion_window_days, started_at"
    " FROM campaigns WHERE status = 'RUNNING' AND starts_at <= :now"
    " AND (ends_at IS NULL OR ends_at > :now) ORDER BY id"
)


@dataclass(frozen=True)
class Evaluation:
    campaigns: int
    assigned: int


def _assign_statement(campaign: Campaign) -> str:
    audience = (
        " JOIN segment_members a ON a.member_id = c.member_id AND a.segment_id = :segment"
        if campaign.audience_segment_id is not None
        else ""
    )
    return (
        f"WITH candidates AS ({FRAGMENTS[campaign.trigger]}),"
        # Read whole before the INSERT starts: a scan of campaign_touches inside the insert
        # would walk the rows it is adding (invisible, but there), quadratically.
        " capped AS MATERIALIZED (SELECT DISTINCT t.member_id FROM campaign_touches t"
        "  WHERE t.reached_at > CAST(:now AS timestamptz) - make_interval(days => :cap)),"
        " arms AS (SELECT * FROM unnest(CAST(:positions AS int[]), CAST(:lows AS int[]),"
        "  CAST(:highs AS int[]), CAST(:outcomes AS text[])) AS a(position, low, high, outcome)),"
        " chosen AS (SELECT c.member_id,"
        "  mod(mod(hashtextextended(CAST(CAST(:campaign AS bigint) AS text) || ':'"
        "  || CAST(c.member_id AS text), 0), CAST(:total AS bigint)) + :total, :total) AS slot"
        f"  FROM candidates c{audience} JOIN members m ON m.id = c.member_id"
        "  WHERE m.status = 'ACTIVE'"
        "  AND NOT EXISTS (SELECT 1 FROM capped WHERE capped.member_id = c.member_id))"
        " INSERT INTO campaign_touches (campaign_id, member_id, arm_position, assigned_at,"
        "  outcome, reached_at, next_attempt_at)"
        " SELECT CAST(:campaign AS bigint), chosen.member_id, arms.position,"
        "  CAST(:now AS timestamptz), arms.outcome,"
        "  CASE WHEN arms.outcome = 'DONE' THEN CAST(:now AS timestamptz) END,"
        "  CASE WHEN arms.outcome = 'PENDING' THEN CAST(:now AS timestamptz) END"
        " FROM chosen JOIN arms ON chosen.slot >= arms.low AND chosen.slot < arms.high"
        " ON CONFLICT (campaign_id, member_id) DO NOTHING"
        " RETURNING member_id, arm_position"
    )


def _first_outcome(arm: ArmSpec) -> Outcome:
    if arm.holdout:
        return Outcome.HOLDOUT
    return Outcome.PENDING if arm.message is not None else Outcome.DONE


async def assign_campaign(
    session: AsyncSession,
    campaign: Campaign,
    arms: Sequence[ArmSpec],
    *,
    started_at: datetime,
    now: datetime,
    zone: str,
    ledger: LedgerConfig,
) -> int:
    """Assign and act for one campaign; answer how many members it assigned now."""
    lows, highs, total = [], [], 0
    for arm in arms:
        lows.append(total)
        total += arm.weight
        highs.append(total)
    parameters: dict[str, Any] = {
        "campaign": campaign.id,
        "positions": list(range(len(arms))),
        "lows": lows,
        "highs": highs,
        "outcomes": [_first_outcome(a).value for a in arms],
        "total": total,
        "now": now,
        "cap": campaign.frequency_cap_days,
        "zone": zone,
        "started": started_at,
        "days": campaign.trigger_days or 0,
        "category": campaign.trigger_category,
    }
    if campaign.audience_segment_id is not None:
        parameters["segment"] = campaign.audience_segment_id
    rows = (await session.execute(text(_assign_statement(campaign)), parameters)).all()
    by_arm: dict[int, list[int]] = {}
    for row in rows:
        by_arm.setdefault(row.arm_position, []).append(row.member_id)
    for position, member_ids in sorted(by_arm.items()):
        arm = arms[position]
        if arm.coupon_template_id is not None:
            await _issue_coupons(
                session, campaign, position, arm.coupon_template_id, member_ids, now
            )
        if arm.award_points is not None:
            await _award_points(
                session, campaign, position, arm.award_points, member_ids, now, ledger
            )
    return len(rows)


async def _issue_coupons(
    session: AsyncSession,
    campaign: Campaign,
    position: int,
    template_id: int,
    member_ids: list[int],
    now: datetime,
) -> None:
    template = await lock_template(session, template_id)
    if not template.active:
        return
    await issue_locked(
        session,
        template,
        member_ids=sorted(member_ids),
        segment_id=None,
        source=CouponSource.CAMPAIGN,
        reason=f"campaign {campaign.id}",
        actor=f"campaign:{campaign.id}",
        now=now,
    )
    await session.execute(
        text(
            "UPDATE campaign_touches t SET coupon_id = k.id FROM coupons k"
            " WHERE t.campaign_id = :campaign AND t.arm_position = :position"
            " AND t.member_id = ANY(CAST(:members AS bigint[]))"
            " AND k.member_id = t.member_id AND k.template_id = :template"
            " AND k.source = 'CAMPAIGN' AND k.reason = :reason AND k.issued_at = :now"
        ),
        {
            "campaign": campaign.id,
            "position": position,
            "members": member_ids,
            "template": template_id,
            "reason": f"campaign {campaign.id}",
            "now": now,
        },
    )


async def _award_points(
    session: AsyncSession,
    campaign: Campaign,
    position: int,
    points: int,
    member_ids: list[int],
    now: datetime,
    ledger: LedgerConfig,
) -> None:
    requests = [
        EntryRequest(
            member_id=m,
            kind=EntryKind.BONUS,
            bucket=Bucket.AVAILABLE,
            amount=points,
            channel=Channel.ADMIN,
            reference=f"campaign:{campaign.id}",
            reason=f"campaign {campaign.name}"[:200],
        )
        for m in sorted(member_ids)
    ]
    results = await post_batch(
        session=session,
        operations=[BatchOperation(requests=(r,)) for r in requests],
        now=now,
        config=ledger,
        operation="campaign",
    )
    if results is None:
        results = [
            await post_entries(
                session=session, requests=[r], now=now, config=ledger, operation="campaign"
            )
            for r in requests
        ]
    awarded = [r.member_id for r, result in zip(requests, results, strict=True) if result.entries]
    await session.execute(
        text(
            "UPDATE campaign_touches SET points_awarded = :points"
            " WHERE campaign_id = :campaign AND member_id = ANY(CAST(:members AS bigint[]))"
        ),
        {"points": points, "campaign": campaign.id, "members": awarded},
    )


async def evaluate_campaigns(
    session: AsyncSession, *, now: datetime, zone: str, ledger: LedgerConfig
) -> Evaluation:
    """Assign and act for every running campaign; a ONCE campaign finishes after its run."""
    rows = (await session.execute(text(_RUNNING), {"now": now})).all()
    assigned = 0
    for row in rows:
        campaign = campaign_from_row(row)
        arms = await load_arms(session.execute, campaign.id)
        assigned += await assign_campaign(
            session,
            campaign,
            arms,
            started_at=max(row.started_at or now, campaign.starts_at),
            now=now,
            zone=zone,
            ledger=ledger,
        )
        if campaign.trigger is Trigger.ONCE:
            await session.execute(
                text("UPDATE campaigns SET status = :s WHERE id = :id"),
                {"s": Status.FINISHED.value, "id": campaign.id},
            )
    return Evaluation(campaigns=len(rows), assigned=assigned)

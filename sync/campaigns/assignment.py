"""Evaluating running campaigns: assign the members a trigger selects to arms, then act.

One INSERT … SELECT per campaign assigns every member the trigger selects, in the audience,
not held back by the campaign's frequency cap, to an arm chosen by a hash of (campaign,
member): random across members, the same on every run and at every occurrence, so a rerun
assigns nobody differently. A trigger fires per occurrence (this year's birthday, this
lapse, this purchase; see ``triggers``): ``campaign_touches`` is unique per (campaign,
member, occurrence) and the INSERT skips conflicts, so a member is assigned once per
occurrence, and only the rows this run inserted get their coupon and points, in the same
transaction: a job killed before it commits did nothing, and a rerun does it all once.
Messages wait in the touch rows (``next_attempt_at``) for ``delivery``, which sends them one
by one.

The cap is the contract's: a member is reached by this campaign at most once in
``frequency_cap_days``. Other campaigns do not count (there is no programme-wide cap).
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
        f"WITH candidates AS MATERIALIZED ({FRAGMENTS[campaign.trigger]}),"
        # What this campaign did to the candidates before: the newest occurrence it assigned
        # them, and whether it reached them within the cap, or assigned them within the cap
        # on an arm that acts (or holds out) at assignment or with a message still waiting
        # (it is about to reach them). Read whole before the INSERT starts: a scan of
        # campaign_touches inside the insert would walk the rows it is adding (invisible,
        # but there), quadratically.
        " before AS MATERIALIZED (SELECT t.member_id, max(t.occurred_at) AS at,"
        "  bool_or(:cap > 0 AND (t.reached_at > CAST(:now AS timestamptz)"
        "   - make_interval(days => :cap) OR ((t.next_attempt_at IS NOT NULL"
        "    OR t.arm_position = ANY(CAST(:at_assignment AS int[])))"
        "    AND t.assigned_at > CAST(:now AS timestamptz) - make_interval(days => :cap))))"
        "   AS capped"
        "  FROM campaign_touches t WHERE t.campaign_id = :campaign"
        "  AND t.member_id IN (SELECT member_id FROM candidates) GROUP BY t.member_id),"
        # One occurrence per member and run, the newest: the cap spaces a member's touches,
        # and an occurrence passed over for a newer one (a stale purchase, an older upgrade)
        # is never assigned later, so a backlog cannot build up behind the cap.
        " fresh AS (SELECT DISTINCT ON (c.member_id) c.member_id, c.occurrence, c.at"
        f"  FROM candidates c{audience} JOIN members m ON m.id = c.member_id"
        "  LEFT JOIN before b ON b.member_id = c.member_id"
        "  WHERE m.status = 'ACTIVE' AND NOT coalesce(b.capped, false)"
        "  AND (b.at IS NULL OR c.at IS NULL OR c.at > b.at)"
        "  ORDER BY c.member_id, c.at DESC NULLS LAST, c.occurrence DESC),"
        " arms AS (SELECT * FROM unnest(CAST(:positions AS int[]), CAST(:lows AS int[]),"
        "  CAST(:highs AS int[]), CAST(:outcomes AS text[])) AS a(position, low, high, outcome)),"
        # The arm is a hash of (campaign, member) only: a member is in the same arm at every
        # occurrence, so the report can count members per arm.
        " chosen AS (SELECT f.member_id, f.occurrence, f.at,"
        "  mod(mod(hashtextextended(CAST(CAST(:campaign AS bigint) AS text) || ':'"
        "  || CAST(f.member_id AS text), 0), CAST(:total AS bigint)) + :total, :total) AS slot"
        "  FROM fresh f)"
        " INSERT INTO campaign_touches (campaign_id, member_id, occurrence, occurred_at,"
        "  arm_position, assigned_at, outcome, reached_at, next_attempt_at)"
        " SELECT CAST(:campaign AS bigint), chosen.member_id, chosen.occurrence, chosen.at,"
        "  arms.position, CAST(:now AS timestamptz), arms.outcome,"
        "  CASE WHEN arms.outcome = 'DONE' THEN CAST(:now AS timestamptz) END,"
        "  CASE WHEN arms.outcome = 'PENDING' THEN CAST(:now AS timestamptz) END"
        " FROM chosen JOIN arms ON chosen.slot >= arms.low AND chosen.slot < arms.high"
        " ON CONFLICT (campaign_id, member_id, occurrence) DO NOTHING"
        " RETURNING id, member_id, arm_position"
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
        # Arms whose touch acts (or holds out) when it is assigned: the cap counts from the
        # assignment there, from the message reaching the member on the others.
        "at_assignment": [
            n
            for n, a in enumerate(arms)
            if a.holdout or a.coupon_template_id is not None or a.award_points is not None
        ],
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
    # Touch ID by member, per arm: the rows this run inserted, the only ones to act on (a
    # member's earlier occurrences have had their coupon and points).
    by_arm: dict[int, dict[int, int]] = {}
    for row in rows:
        by_arm.setdefault(row.arm_position, {})[row.member_id] = row.id
    for position, touches in sorted(by_arm.items()):
        arm = arms[position]
        if arm.coupon_template_id is not None:
            await _issue_coupons(session, campaign, arm.coupon_template_id, touches, now)
        if arm.award_points is not None:
            await _award_points(session, campaign, arm.award_points, touches, now, ledger)
    return len(rows)


async def _issue_coupons(
    session: AsyncSession,
    campaign: Campaign,
    template_id: int,
    touches: dict[int, int],
    now: datetime,
) -> None:
    template = await lock_template(session, template_id)
    if not template.active:
        return
    await issue_locked(
        session,
        template,
        member_ids=sorted(touches),
        segment_id=None,
        source=CouponSource.CAMPAIGN,
        reason=f"campaign {campaign.id}",
        actor=f"campaign:{campaign.id}",
        now=now,
    )
    await session.execute(
        text(
            "UPDATE campaign_touches t SET coupon_id = k.id FROM coupons k"
            " WHERE t.id = ANY(CAST(:touches AS bigint[]))"
            " AND k.member_id = t.member_id AND k.template_id = :template"
            " AND k.source = 'CAMPAIGN' AND k.reason = :reason AND k.issued_at = :now"
        ),
        {
            "touches": list(touches.values()),
            "template": template_id,
            "reason": f"campaign {campaign.id}",
            "now": now,
        },
    )


async def _award_points(
    session: AsyncSession,
    campaign: Campaign,
    points: int,
    touches: dict[int, int],
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
        for m in sorted(touches)
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
    awarded = [
        touches[r.member_id] for r, result in zip(requests, results, strict=True) if result.entries
    ]
    await session.execute(
        text(
            "UPDATE campaign_touches SET points_awarded = :points"
            " WHERE id = ANY(CAST(:touches AS bigint[]))"
        ),
        {"points": points, "touches": awarded},
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

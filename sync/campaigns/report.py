"""A campaign's results per arm, in one statement, and the uplift over the holdout.

A recurring trigger touches a member once per occurrence (every birthday, every lapse), but
the arm is a hash of (campaign, member), so a member is in one arm at every occurrence and
the report counts members, the unit the arms were drawn by: ``members`` assigned at least
once, ``reached`` reached at least once, ``converted`` made a counted purchase after one of
their assignments and within its conversion window. ``revenue`` adds each such purchase once
(net of refunds), however many windows it falls in; ``couponsRedeemed`` and
``pointsAwarded`` add up over every touch. Holdout members are assigned, never reached, and
convert on their own: the comparison the uplift is, a z-test over distinct members (counting
touches would weigh members with more occurrences more and make the samples dependent).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import text

from sync.campaigns.model import ArmReport, two_proportion_p_value
from sync.campaigns.triggers import COUNTED

_REPORT = text(
    "WITH touches AS (SELECT t.member_id, t.arm_position, t.assigned_at, t.reached_at,"
    "  t.coupon_id, t.points_awarded FROM campaign_touches t WHERE t.campaign_id = :id),"
    # Each converting purchase once, however many of the member's windows it falls in.
    " converting AS (SELECT DISTINCT p.id, p.member_id, p.amount - p.refunded_amount AS net"
    "  FROM touches t JOIN purchases p ON p.member_id = t.member_id"
    f"  AND p.status IN {COUNTED} AND p.occurred_at > t.assigned_at"
    "  AND p.occurred_at <= t.assigned_at + make_interval(days => :window)),"
    # Touches and conversions grouped together per member, then per arm: no join of a
    # member-sized set with another, whose plan a stale row estimate could turn quadratic.
    # The arm is the same at every occurrence (a hash of campaign and member); min() only
    # picks it out of the group.
    " facts AS (SELECT t.member_id, t.arm_position, t.reached_at IS NOT NULL AS reached,"
    "  t.points_awarded AS points, CAST(NULL AS numeric) AS net FROM touches t"
    "  UNION ALL SELECT c.member_id, NULL, false, 0, c.net FROM converting c),"
    " members AS (SELECT f.member_id, min(f.arm_position) AS arm_position,"
    "  bool_or(f.reached) AS reached, sum(f.points) AS points, sum(f.net) AS revenue"
    "  FROM facts f GROUP BY f.member_id),"
    " arms AS MATERIALIZED (SELECT m.arm_position, count(*) AS members,"
    "  count(*) FILTER (WHERE m.reached) AS reached,"
    "  count(*) FILTER (WHERE m.revenue IS NOT NULL) AS converted,"
    "  coalesce(sum(m.revenue), 0) AS revenue, sum(m.points) AS points"
    "  FROM members m GROUP BY m.arm_position),"
    " redeemed AS (SELECT t.arm_position, count(*) AS coupons FROM touches t"
    "  JOIN coupons k ON k.id = t.coupon_id WHERE k.status = 'REDEEMED'"
    "  GROUP BY t.arm_position)"
    " SELECT a.position, a.name, a.weight,"
    "  (a.coupon_template_id IS NULL AND a.award_points IS NULL"
    "   AND a.message_channel IS NULL) AS holdout,"
    "  coalesce(s.members, 0) AS members, coalesce(s.reached, 0) AS reached,"
    "  coalesce(s.converted, 0) AS converted, coalesce(s.revenue, 0) AS revenue,"
    "  coalesce(r.coupons, 0) AS coupons_redeemed, coalesce(s.points, 0) AS points_awarded"
    " FROM campaign_arms a"
    " LEFT JOIN arms s ON s.arm_position = a.position"
    " LEFT JOIN redeemed r ON r.arm_position = a.position"
    " WHERE a.campaign_id = :id ORDER BY a.position"
)


@dataclass(frozen=True)
class CampaignReport:
    arms: list[ArmReport]
    #: Percentage points; None without a holdout (or without members to compare).
    uplift: float | None
    p_value: float | None


async def campaign_report(execute: object, campaign_id: int, window_days: int) -> CampaignReport:
    rows = await execute(_REPORT, {"id": campaign_id, "window": window_days})  # type: ignore[operator]
    arms = [
        ArmReport(
            name=r.name,
            weight=r.weight,
            holdout=r.holdout,
            members=r.members,
            reached=r.reached,
            converted=r.converted,
            revenue=Decimal(r.revenue).quantize(Decimal("0.01")),
            coupons_redeemed=r.coupons_redeemed,
            points_awarded=int(r.points_awarded),
        )
        for r in rows
    ]
    return CampaignReport(arms, *uplift_over_holdout(arms))


def uplift_over_holdout(arms: list[ArmReport]) -> tuple[float | None, float | None]:
    """The best acting arm's rate minus the holdout's (first holdout arm), in percentage
    points, and the z-test's two-sided p-value of that difference."""
    holdout = next((a for a in arms if a.holdout and a.members), None)
    acting = [a for a in arms if not a.holdout and a.members]
    if holdout is None or not acting:
        return None, None
    best = max(acting, key=lambda a: (a.converted / a.members, -arms.index(a)))
    base = holdout.converted / holdout.members
    uplift = (best.converted / best.members - base) * 100
    return uplift, two_proportion_p_value(
        best.converted, best.members, holdout.converted, holdout.members
    )

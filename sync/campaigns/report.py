"""A campaign's results per arm, in one statement, and the uplift over the holdout.

A member converts when they make a counted purchase after being assigned and within the
conversion window; revenue is what those purchases came to (net of refunds). Holdout
members are assigned, never reached, and convert on their own: the comparison the uplift is.
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
    " bought AS (SELECT t.member_id, count(p.id) AS purchases,"
    "  coalesce(sum(p.amount - p.refunded_amount), 0) AS revenue"
    "  FROM touches t JOIN purchases p ON p.member_id = t.member_id"
    f"  AND p.status IN {COUNTED} AND p.occurred_at > t.assigned_at"
    "  AND p.occurred_at <= t.assigned_at + make_interval(days => :window)"
    "  GROUP BY t.member_id)"
    " SELECT a.position, a.name, a.weight,"
    "  (a.coupon_template_id IS NULL AND a.award_points IS NULL"
    "   AND a.message_channel IS NULL) AS holdout,"
    "  count(t.member_id) AS members, count(t.reached_at) AS reached,"
    "  count(b.member_id) AS converted, coalesce(sum(b.revenue), 0) AS revenue,"
    "  count(k.id) FILTER (WHERE k.status = 'REDEEMED') AS coupons_redeemed,"
    "  coalesce(sum(t.points_awarded), 0) AS points_awarded"
    " FROM campaign_arms a"
    " LEFT JOIN touches t ON t.arm_position = a.position"
    " LEFT JOIN bought b ON b.member_id = t.member_id"
    " LEFT JOIN coupons k ON k.id = t.coupon_id"
    " WHERE a.campaign_id = :id GROUP BY a.position, a.name, a.weight, a.coupon_template_id,"
    "  a.award_points, a.message_channel ORDER BY a.position"
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

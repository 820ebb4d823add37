"""Who a campaign reaches now: one SQL fragment per trigger, each a set of member IDs.

Every fragment selects ``member_id`` over the whole member table in one statement; the
assignment wraps it with the audience, the frequency cap and the arms. Days are counted in
the programme's time zone (``:zone``). Event-like triggers (segment entered, tier upgraded,
N days after a purchase) look only at what happened since the campaign started, so starting
a campaign never floods members with old history, and a missed run is caught up by the next.
"""

from __future__ import annotations

from sync.campaigns.model import Trigger

#: Purchases whose spend counts (as tiers and reports count them).
COUNTED = "('COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED')"

_TODAY = "CAST(timezone(:zone, CAST(:now AS timestamptz)) AS date)"

#: The member's next birthday on or after today (29 February falls on the 28th in other
#: years: adding years to a date clamps the day).
_NEXT_BIRTHDAY = (
    "CASE WHEN CAST(m.birthday + make_interval(years => y.years) AS date) >= y.today"
    " THEN CAST(m.birthday + make_interval(years => y.years) AS date)"
    " ELSE CAST(m.birthday + make_interval(years => y.years + 1) AS date) END"
)

FRAGMENTS: dict[Trigger, str] = {
    Trigger.ONCE: "SELECT m.id AS member_id FROM members m WHERE m.status = 'ACTIVE'",
    Trigger.SEGMENT_ENTERED: (
        "SELECT s.member_id FROM segment_members s"
        " WHERE s.segment_id = :segment AND s.since >= :started"
    ),
    Trigger.BIRTHDAY: (
        "SELECT m.id AS member_id FROM members m"
        f" CROSS JOIN LATERAL (SELECT {_TODAY} AS today,"
        f"  CAST(extract(year FROM {_TODAY}) - extract(year FROM m.birthday) AS int) AS years) y"
        " WHERE m.status = 'ACTIVE' AND m.birthday IS NOT NULL"
        f" AND {_NEXT_BIRTHDAY} - y.today BETWEEN 0 AND :days"
    ),
    Trigger.INACTIVE_DAYS: (
        f"SELECT p.member_id FROM purchases p WHERE p.status IN {COUNTED}"
        " AND p.member_id IS NOT NULL GROUP BY p.member_id"
        " HAVING max(p.occurred_at) <= CAST(:now AS timestamptz) - make_interval(days => :days)"
    ),
    Trigger.POINTS_EXPIRING: (
        "SELECT DISTINCT l.member_id FROM points_lots l"
        " WHERE l.bucket = 'AVAILABLE' AND l.remaining > 0 AND l.expires_at > :now"
        " AND l.expires_at <= CAST(:now AS timestamptz) + make_interval(days => :days)"
    ),
    Trigger.TIER_UPGRADED: (
        "SELECT DISTINCT t.member_id FROM member_tiers t"
        " WHERE t.reason = 'UPGRADE' AND t.since >= :started AND t.since <= :now"
    ),
    Trigger.DAYS_AFTER_PURCHASE: (
        f"SELECT DISTINCT p.member_id FROM purchases p WHERE p.status IN {COUNTED}"
        " AND p.member_id IS NOT NULL"
        " AND p.occurred_at <= CAST(:now AS timestamptz) - make_interval(days => :days)"
        " AND p.occurred_at > CAST(:started AS timestamptz) - make_interval(days => :days)"
        " AND (CAST(:category AS text) IS NULL OR EXISTS (SELECT 1 FROM purchase_items i"
        "  WHERE i.purchase_id = p.id AND i.category = :category))"
    ),
}

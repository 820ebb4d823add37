"""Who a campaign reaches now: one SQL fragment per trigger, each a set of occurrences.

Every fragment selects ``member_id, occurrence, at`` over the whole member table in one
statement; the assignment wraps it with the audience, the frequency cap and the arms. An
occurrence is the one thing the trigger fires for (this year's birthday, this lapse, this
purchase…): ``occurrence`` is its key, unique per campaign and member, so a member is
assigned once per occurrence however often the job runs, and ``at`` is when it happened,
so the assignment can tell a newer occurrence from one it has passed over. Days are counted
in the programme's time zone (``:zone``). Event-like triggers (segment entered, tier
upgraded, N days after a purchase) look only at what happened since the campaign started, so
starting a campaign never floods members with old history, and a missed run is caught up by
the next.
"""

from __future__ import annotations

from sync.campaigns.model import Trigger

#: Purchases whose spend counts (as tiers and reports count them).
COUNTED = "('COMPLETED', 'PARTIALLY_REFUNDED', 'REFUNDED')"

_TODAY = "CAST(timezone(:zone, CAST(:now AS timestamptz)) AS date)"


def _instant(column: str) -> str:
    """An instant as fixed text (UTC, microseconds): the session's time zone must not change
    an occurrence's key."""
    return f"to_char(timezone('UTC', {column}), 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"')"


def _local_midnight(day: str) -> str:
    return f"timezone(:zone, CAST({day} AS timestamp))"


#: The member's next birthday on or after today (29 February falls on the 28th in other
#: years: adding years to a date clamps the day).
_NEXT_BIRTHDAY = (
    "CASE WHEN CAST(m.birthday + make_interval(years => y.years) AS date) >= y.today"
    " THEN CAST(m.birthday + make_interval(years => y.years) AS date)"
    " ELSE CAST(m.birthday + make_interval(years => y.years + 1) AS date) END"
)

FRAGMENTS: dict[Trigger, str] = {
    # Once ever: one constant key; ``at`` is left empty (there is nothing to come after it).
    Trigger.ONCE: (
        "SELECT m.id AS member_id, 'once' AS occurrence, CAST(NULL AS timestamptz) AS at"
        " FROM members m WHERE m.status = 'ACTIVE'"
    ),
    # Each entry: leaving deletes the membership row, entering again writes a new ``since``.
    Trigger.SEGMENT_ENTERED: (
        f"SELECT s.member_id, 'entered:' || {_instant('s.since')} AS occurrence, s.since AS at"
        " FROM segment_members s WHERE s.segment_id = :segment AND s.since >= :started"
    ),
    # Once a year: the year of the birthday that is coming.
    Trigger.BIRTHDAY: (
        "SELECT m.id AS member_id, to_char(b.day, 'YYYY') AS occurrence,"
        f" {_local_midnight('b.day')} AS at FROM members m"
        f" CROSS JOIN LATERAL (SELECT {_TODAY} AS today,"
        f"  CAST(extract(year FROM {_TODAY}) - extract(year FROM m.birthday) AS int) AS years) y"
        f" CROSS JOIN LATERAL (SELECT {_NEXT_BIRTHDAY} AS day) b"
        " WHERE m.status = 'ACTIVE' AND m.birthday IS NOT NULL"
        " AND b.day - y.today BETWEEN 0 AND :days"
    ),
    # Once per lapse: the last purchase before it. Buying again ends the lapse; the next
    # lapse starts from that newer purchase, a new key.
    Trigger.INACTIVE_DAYS: (
        "SELECT l.member_id, 'purchase:' || l.id AS occurrence, l.occurred_at AS at"
        " FROM (SELECT DISTINCT ON (p.member_id) p.member_id, p.id, p.occurred_at"
        f"  FROM purchases p WHERE p.status IN {COUNTED} AND p.member_id IS NOT NULL"
        "  ORDER BY p.member_id, p.occurred_at DESC, p.id DESC) l"
        " WHERE l.occurred_at <= CAST(:now AS timestamptz) - make_interval(days => :days)"
    ),
    # Per expiry day (programme time zone): lots expiring on the same day are one reminder.
    Trigger.POINTS_EXPIRING: (
        "SELECT e.member_id, to_char(e.day, 'YYYY-MM-DD') AS occurrence,"
        f" {_local_midnight('e.day')} AS at"
        " FROM (SELECT DISTINCT l.member_id,"
        "  CAST(timezone(:zone, l.expires_at) AS date) AS day FROM points_lots l"
        "  WHERE l.bucket = 'AVAILABLE' AND l.remaining > 0 AND l.expires_at > :now"
        "  AND l.expires_at <= CAST(:now AS timestamptz) + make_interval(days => :days)) e"
    ),
    # Each upgrade: its tier history row, keyed by (member, since).
    Trigger.TIER_UPGRADED: (
        f"SELECT t.member_id, 'upgrade:' || {_instant('t.since')} AS occurrence, t.since AS at"
        " FROM member_tiers t"
        " WHERE t.reason = 'UPGRADE' AND t.since >= :started AND t.since <= :now"
    ),
    # Each qualifying purchase.
    Trigger.DAYS_AFTER_PURCHASE: (
        "SELECT p.member_id, 'purchase:' || p.id AS occurrence, p.occurred_at AS at"
        f" FROM purchases p WHERE p.status IN {COUNTED}"
        " AND p.member_id IS NOT NULL"
        " AND p.occurred_at <= CAST(:now AS timestamptz) - make_interval(days => :days)"
        " AND p.occurred_at > CAST(:started AS timestamptz) - make_interval(days => :days)"
        " AND (CAST(:category AS text) IS NULL OR EXISTS (SELECT 1 FROM purchase_items i"
        "  WHERE i.purchase_id = p.id AND i.category = :category))"
    ),
}

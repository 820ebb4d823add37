"""The programme's built-in rule tags, each a statement of (tag_id, member_id) pairs.

- ``weekend-shopper``: over 60% of purchases (at least 3) on Saturday or Sunday, in the
  programme's zone.
- ``price-sensitive``: over half of purchases (at least 2) with a promotion.
- ``high-value``: 3 or more purchases in 30 days and an AOV over those 30 days in the top
  20% of members who bought in them.
- ``category:<name>``: over 50% of item spend in 180 days in one category (a tag per
  category, created when a category first qualifies).
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

KEPT = "p.status NOT IN ('REJECTED', 'REFUNDED')"

_TARGETS = {
    "weekend-shopper": (
        "SELECT (SELECT id FROM tags WHERE builtin = 'weekend-shopper') AS tag_id, p.member_id"
        " FROM purchases p JOIN members m ON m.id = p.member_id AND m.status = 'ACTIVE'"
        f" WHERE {KEPT} AND p.occurred_at <= :now"
        " GROUP BY p.member_id HAVING count(*) >= 3 AND count(*) FILTER (WHERE"
        "  extract(isodow FROM p.occurred_at AT TIME ZONE CAST(:zone AS text)) IN (6, 7))"
        "  > 0.6 * count(*)"
    ),
    "price-sensitive": (
        "SELECT (SELECT id FROM tags WHERE builtin = 'price-sensitive') AS tag_id, p.member_id"
        " FROM purchases p JOIN members m ON m.id = p.member_id AND m.status = 'ACTIVE'"
        f" WHERE {KEPT} AND p.occurred_at <= :now"
        " GROUP BY p.member_id HAVING count(*) >= 2"
        "  AND count(*) FILTER (WHERE p.has_promotion) > 0.5 * count(*)"
    ),
    "high-value": (
        "SELECT (SELECT id FROM tags WHERE builtin = 'high-value') AS tag_id, member_id FROM ("
        " SELECT p.member_id, count(*) AS orders,"
        "  percent_rank() OVER (ORDER BY sum(p.amount - p.refunded_amount) / count(*)) AS pct"
        " FROM purchases p JOIN members m ON m.id = p.member_id AND m.status = 'ACTIVE'"
        f" WHERE {KEPT} AND p.occurred_at <= :now AND p.occurred_at > :since_30"
        " GROUP BY p.member_id) a WHERE orders >= 3 AND pct >= 0.8"
    ),
    "category": (
        "SELECT t.id AS tag_id, c.member_id FROM ("
        " SELECT i.member_id, i.category, sum(i.quantity * i.unit_price) AS spend,"
        "  sum(sum(i.quantity * i.unit_price)) OVER (PARTITION BY i.member_id) AS total"
        " FROM purchase_items i JOIN purchases p ON p.id = i.purchase_id"
        " JOIN members m ON m.id = i.member_id AND m.status = 'ACTIVE'"
        f" WHERE {KEPT} AND p.occurred_at <= :now AND p.occurred_at > :since_180"
        "  AND i.category IS NOT NULL"
        " GROUP BY i.member_id, i.category) c"
        " JOIN tags t ON t.name = 'category:' || c.category"
        " WHERE c.total > 0 AND c.spend > 0.5 * c.total"
    ),
}

#: The tags whose memberships these statements own.
BUILTINS = ("weekend-shopper", "price-sensitive", "high-value", "category")

#: The fixed built-in tags (category tags appear with their categories).
BUILTIN_TAGS = (
    ("weekend-shopper", "Over 60% of purchases on Saturday or Sunday."),
    ("price-sensitive", "Over half of purchases with a promotion."),
    ("high-value", "3+ purchases in 30 days with an AOV in the top 20%."),
)

#: The eight RFM classes as built-in segments: (code, name, description).
RFM_SEGMENTS = (
    ("IMPORTANT_VALUE", "Important value", "Recent, frequent, high spend."),
    ("IMPORTANT_DEVELOP", "Important to develop", "Recent, infrequent, high spend."),
    ("IMPORTANT_KEEP", "Important to keep", "Not recent, frequent, high spend."),
    ("IMPORTANT_RETAIN", "Important to win back", "Not recent, infrequent, high spend."),
    ("GENERAL_VALUE", "General value", "Recent, frequent, low spend."),
    ("GENERAL_DEVELOP", "General to develop", "Recent, infrequent, low spend."),
    ("GENERAL_KEEP", "General to keep", "Not recent, frequent, low spend."),
    ("GENERAL_RETAIN", "General to win back", "Not recent, infrequent, low spend."),
)


async def ensure_builtins(session: AsyncSession, *, now: datetime) -> None:
    """The built-in tags and RFM segments exist (the migration made them; this restores any
    an operator removed)."""
    await session.execute(
        text(
            "INSERT INTO tags (name, description, source, builtin, created_at)"
            " SELECT name, description, 'RULE', name, :now"
            " FROM unnest(CAST(:names AS text[]), CAST(:descriptions AS text[]))"
            "  AS b(name, description)"
            " ON CONFLICT (name) DO NOTHING"
        ),
        {
            "names": [n for n, _ in BUILTIN_TAGS],
            "descriptions": [d for _, d in BUILTIN_TAGS],
            "now": now,
        },
    )
    await session.execute(
        text(
            "INSERT INTO segments (name, description, kind, rule, created_at)"
            " SELECT 'RFM: ' || name, description, 'RFM', jsonb_build_object('condition',"
            "  jsonb_build_object('field', 'RFM_SEGMENT', 'op', 'EQ',"
            "   'values', jsonb_build_array(code))), :now"
            " FROM unnest(CAST(:codes AS text[]), CAST(:names AS text[]),"
            "  CAST(:descriptions AS text[])) AS s(code, name, description)"
            " ON CONFLICT (name) DO NOTHING"
        ),
        {
            "codes": [c for c, _, _ in RFM_SEGMENTS],
            "names": [n for _, n, _ in RFM_SEGMENTS],
            "descriptions": [d for _, _, d in RFM_SEGMENTS],
            "now": now,
        },
    )


_CATEGORY_TAGS = text(
    "INSERT INTO tags (name, description, source, builtin, created_at)"
    " SELECT DISTINCT 'category:' || i.category,"
    "  'Over half of spend in 180 days on ' || i.category || '.', 'RULE', 'category',"
    " CAST(:now AS timestamptz)"
    " FROM purchase_items i JOIN purchases p ON p.id = i.purchase_id"
    " WHERE i.category IS NOT NULL AND p.occurred_at > :since_180 AND p.occurred_at <= :now"
    " ON CONFLICT (name) DO NOTHING"
)


async def builtin_targets(
    session: AsyncSession, builtin: str, *, now: datetime, time_zone: str
) -> tuple[str, dict[str, Any]]:
    params = {
        "now": now,
        "zone": time_zone,
        "since_30": now - timedelta(days=30),
        "since_180": now - timedelta(days=180),
    }
    if builtin == "category":
        await session.execute(_CATEGORY_TAGS, params)
    used = {k: v for k, v in params.items() if f":{k}" in _TARGETS[builtin]}
    return _TARGETS[builtin], used

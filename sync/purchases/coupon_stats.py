"""A coupon template's statistics, with the revenue of the purchases its coupons were
redeemed on: a read of the coupons joined with the purchases, so it lives with them."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import text

from ledger.benefits.model import TemplateStats

Execute = Callable[..., Awaitable[Any]]


async def load_template_stats(
    execute: Execute, keys: Sequence[tuple[int, datetime]]
) -> list[TemplateStats]:
    """Counts by template as clients see statuses at the key's moment; revenue sums the
    purchases the coupons were redeemed on."""
    ids = sorted({template for template, _ in keys})
    now = keys[0][1]
    rows = await execute(
        text(
            "SELECT c.template_id, count(*) AS issued,"
            " count(*) FILTER (WHERE c.status = 'REDEEMED') AS redeemed,"
            " count(*) FILTER (WHERE c.status = 'EXPIRED'"
            "  OR (c.status = 'ACTIVE' AND c.valid_until <= :now)) AS expired,"
            " CAST(coalesce(sum(p.amount), 0) AS numeric(14, 2)) AS revenue"
            " FROM coupons c LEFT JOIN purchases p ON p.id = c.redeemed_purchase_id"
            " WHERE c.template_id = ANY(CAST(:ids AS bigint[])) GROUP BY c.template_id"
        ),
        {"ids": ids, "now": now},
    )
    found = {
        row.template_id: TemplateStats(
            issued=row.issued, redeemed=row.redeemed, expired=row.expired, revenue=row.revenue
        )
        for row in rows
    }
    empty = TemplateStats(issued=0, redeemed=0, expired=0, revenue=Decimal("0.00"))
    return [found.get(template, empty) for template, _ in keys]

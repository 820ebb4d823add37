"""Batch reads of purchases for the API's dataloaders: one statement per batch of keys."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import text

from ledger.model import add_months
from sync.purchases.records import (
    PurchaseItemRecord,
    PurchaseRecord,
    item_from_row,
    purchase_from_row,
)

Execute = Callable[..., Awaitable[Any]]

# Plain text: the API's loaders run it on the read pool, not in a session.
_BY_ID = text("SELECT * FROM purchases WHERE id = ANY(CAST(:ids AS bigint[]))")
_ITEMS = text(
    "SELECT * FROM purchase_items WHERE purchase_id = ANY(CAST(:ids AS bigint[]))"
    " ORDER BY purchase_id, line_no"
)
_BY_RECEIPT = text(
    "SELECT * FROM purchases WHERE store_id = :store_id AND receipt_no = :receipt_no"
)


@dataclass(frozen=True)
class MemberStats:
    order_count: int
    total_spend: Decimal
    average_order_value: Decimal | None
    spend_last_12_months: Decimal
    first_purchase_at: datetime | None
    last_purchase_at: datetime | None


@dataclass(frozen=True)
class PurchasePage:
    purchases: tuple[PurchaseRecord, ...]
    has_next: bool


async def load_purchases(execute: Execute, ids: Sequence[int]) -> list[PurchaseRecord | None]:
    rows = await execute(_BY_ID, {"ids": list(ids)})
    found = {row.id: purchase_from_row(row) for row in rows}
    return [found.get(i) for i in ids]


async def load_items(execute: Execute, ids: Sequence[int]) -> list[list[PurchaseItemRecord]]:
    grouped: dict[int, list[PurchaseItemRecord]] = defaultdict(list)
    for row in await execute(_ITEMS, {"ids": list(ids)}):
        grouped[row.purchase_id].append(item_from_row(row))
    return [grouped.get(i, []) for i in ids]


def _cents(value: Decimal) -> Decimal:
    return value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


async def load_stats(execute: Execute, keys: Sequence[tuple[int, datetime]]) -> list[MemberStats]:
    """Stats per (member, now). Orders are purchases not rejected nor wholly refunded;
    spend is net of refunds."""
    rows = await execute(
        text(
            "SELECT k.member_id,"
            " count(p.id) FILTER (WHERE p.status NOT IN ('REJECTED', 'REFUNDED')) AS orders,"
            " coalesce(sum(p.amount - p.refunded_amount)"
            "  FILTER (WHERE p.status <> 'REJECTED'), 0) AS spend,"
            " coalesce(sum(p.amount - p.refunded_amount)"
            "  FILTER (WHERE p.status <> 'REJECTED' AND p.occurred_at > k.since), 0) AS recent,"
            " min(p.occurred_at) FILTER (WHERE p.status <> 'REJECTED') AS first_at,"
            " max(p.occurred_at) FILTER (WHERE p.status <> 'REJECTED') AS last_at"
            " FROM unnest(CAST(:members AS bigint[]), CAST(:since AS timestamptz[]))"
            "  AS k(member_id, since)"
            " LEFT JOIN purchases p ON p.member_id = k.member_id"
            " GROUP BY k.member_id"
        ),
        {"members": [k[0] for k in keys], "since": [add_months(k[1], -12) for k in keys]},
    )
    found: dict[int, MemberStats] = {}
    for row in rows:
        spend = Decimal(row.spend)
        found[row.member_id] = MemberStats(
            order_count=row.orders,
            total_spend=_cents(spend),
            average_order_value=_cents(spend / row.orders) if row.orders else None,
            spend_last_12_months=_cents(Decimal(row.recent)),
            first_purchase_at=row.first_at,
            last_purchase_at=row.last_at,
        )
    empty = MemberStats(0, Decimal("0.00"), None, Decimal("0.00"), None, None)
    return [found.get(k[0], empty) for k in keys]


async def load_member_purchases(
    execute: Execute, keys: Sequence[tuple[int, int, int | None]]
) -> list[PurchasePage]:
    """Pages of each member's purchases, newest first: keys are (member, first, after id)."""
    rows = await execute(
        text(
            "SELECT q.* FROM unnest(CAST(:members AS bigint[]), CAST(:firsts AS int[]),"
            "  CAST(:afters AS bigint[])) WITH ORDINALITY AS k(member_id, first, after, n)"
            " CROSS JOIN LATERAL (SELECT p.*, k.n AS key_n FROM purchases p"
            "  WHERE p.member_id = k.member_id AND (k.after IS NULL OR p.id < k.after)"
            "  ORDER BY p.id DESC LIMIT k.first + 1) q"
        ),
        {
            "members": [k[0] for k in keys],
            "firsts": [k[1] for k in keys],
            "afters": [k[2] for k in keys],
        },
    )
    grouped: dict[int, list[PurchaseRecord]] = defaultdict(list)
    for row in rows:
        grouped[row.key_n].append(purchase_from_row(row))
    pages = []
    for n, key in enumerate(keys, start=1):
        found = grouped.get(n, [])
        pages.append(PurchasePage(tuple(found[: key[1]]), len(found) > key[1]))
    return pages


async def purchase_by_receipt(
    execute: Execute, store_id: str, receipt_no: str
) -> PurchaseRecord | None:
    rows = await execute(_BY_RECEIPT, {"store_id": store_id, "receipt_no": receipt_no})
    row = rows.one_or_none()
    return None if row is None else purchase_from_row(row)


async def purchases_by_receipts(
    execute: Execute, keys: Sequence[tuple[str, str]]
) -> dict[tuple[str, str], PurchaseRecord]:
    """The purchases stored under these (store, receipt) keys, by key."""
    if not keys:
        return {}
    # A join on unnest, not a row IN list: that one the planner scanned the table for.
    rows = await execute(
        text(
            "SELECT p.* FROM unnest(CAST(:stores AS text[]), CAST(:receipts AS text[]))"
            " AS k(store_id, receipt_no) JOIN purchases p USING (store_id, receipt_no)"
        ),
        {"stores": [k[0] for k in keys], "receipts": [k[1] for k in keys]},
    )
    return {(row.store_id, row.receipt_no): purchase_from_row(row) for row in rows}

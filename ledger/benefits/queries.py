"""Reads of coupons for the API: by ID, by code, and wallet pages (a template's
statistics count the purchases coupons were redeemed on: ``sync.purchases.coupon_stats``).

Each function takes a batch of keys (a dataloader's), so a list of members costs one
query per field, not one per member.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from sqlalchemy import text

from ledger.benefits.model import Coupon, CouponSource, CouponStatus

Execute = Callable[..., Awaitable[Any]]

COUPON_COLUMNS = (
    "id, code, template_id, member_id, status, source, reason, issued_at, valid_from,"
    " valid_until, redeemed_at, redeemed_purchase_id"
)


def coupon_from_row(row: Any) -> Coupon:
    return Coupon(
        id=row.id,
        code=row.code,
        template_id=row.template_id,
        member_id=row.member_id,
        status=CouponStatus(row.status),
        source=CouponSource(row.source),
        reason=row.reason,
        issued_at=row.issued_at,
        valid_from=row.valid_from,
        valid_until=row.valid_until,
        redeemed_at=row.redeemed_at,
        redeemed_purchase_id=row.redeemed_purchase_id,
    )


async def load_coupons(execute: Execute, ids: Sequence[int]) -> list[Coupon | None]:
    rows = await execute(
        text(f"SELECT {COUPON_COLUMNS} FROM coupons WHERE id = ANY(CAST(:ids AS bigint[]))"),
        {"ids": list(ids)},
    )
    found = {row.id: coupon_from_row(row) for row in rows}
    return [found.get(i) for i in ids]


async def coupons_by_code(execute: Execute, codes: Sequence[str]) -> dict[str, Coupon]:
    rows = await execute(
        text(f"SELECT {COUPON_COLUMNS} FROM coupons WHERE code = ANY(CAST(:codes AS text[]))"),
        {"codes": list(codes)},
    )
    return {row.code: coupon_from_row(row) for row in rows}


@dataclass(frozen=True)
class WalletQuery:
    """One page of a member's coupons, newest first, optionally of one status as clients
    see it (an ACTIVE coupon past its last moment counts as EXPIRED)."""

    status: CouponStatus | None
    first: int
    before_id: int | None
    now: datetime


@dataclass(frozen=True)
class WalletPage:
    coupons: tuple[Coupon, ...]
    has_next: bool
    total: int


_SEEN_STATUS = "CASE WHEN status = 'ACTIVE' AND valid_until <= :now THEN 'EXPIRED' ELSE status END"


async def load_wallets(
    execute: Execute, keys: Sequence[tuple[int, WalletQuery]]
) -> list[WalletPage]:
    """Pages for (member, query) keys: one query per distinct page shape in the batch."""
    answers: dict[tuple[int, WalletQuery], WalletPage] = {}
    ordered = sorted(set(keys), key=lambda k: repr(k[1]))
    for query, group in groupby(ordered, key=lambda k: k[1]):
        members = [member for member, _ in group]
        status_filter = f" AND {_SEEN_STATUS} = :status" if query.status is not None else ""
        parameters: dict[str, Any] = {"ids": members, "now": query.now, "first": query.first}
        if query.status is not None:
            parameters["status"] = query.status.value
        totals = {
            row.member_id: row.total
            for row in await execute(
                text(
                    "SELECT member_id, count(*) AS total FROM coupons"
                    f" WHERE member_id = ANY(CAST(:ids AS bigint[])){status_filter}"
                    " GROUP BY member_id"
                ),
                parameters,
            )
        }
        after = ""
        if query.before_id is not None:
            after = " AND id < :before"
            parameters["before"] = query.before_id
        rows = await execute(
            text(
                f"SELECT * FROM (SELECT {COUPON_COLUMNS}, row_number() OVER"
                " (PARTITION BY member_id ORDER BY id DESC) AS rank FROM coupons"
                f" WHERE member_id = ANY(CAST(:ids AS bigint[])){status_filter}{after}) page"
                " WHERE rank <= :first + 1 ORDER BY member_id, id DESC"
            ),
            parameters,
        )
        by_member: dict[int, list[Coupon]] = {}
        for row in rows:
            by_member.setdefault(row.member_id, []).append(coupon_from_row(row))
        for member in members:
            found = by_member.get(member, [])
            answers[(member, query)] = WalletPage(
                coupons=tuple(found[: query.first]),
                has_next=len(found) > query.first,
                total=totals.get(member, 0),
            )
    return [answers[k] for k in keys]

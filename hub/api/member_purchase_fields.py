"""Resolvers of ``Member.tier``, ``Member.stats`` and ``Member.purchases`` (batched)."""

from __future__ import annotations

import strawberry

from hub.api.pagination import PageInfo, check_page_size, decode_cursor, encode_cursor
from hub.api.purchase_types import (
    MemberStats,
    MemberTier,
    PurchaseConnection,
    PurchaseEdge,
    purchase_object,
    tier_definition,
)
from hub.api.tier_ladder import current_programme
from identity.records import MemberRecord
from sync import tiers


async def member_tier(info: strawberry.Info, member: MemberRecord) -> MemberTier:
    programme = await current_programme(info)
    current: tiers.MemberTier = await info.context.loaders.current_tier.load(member.id)
    tier = programme.get(current.code or None)
    following = programme.next_after(tier.code)
    return MemberTier(
        code=tier.code,
        name=tier.name,
        since=current.since or member.created_at,
        points_multiplier=tier.multiplier,
        pay_percent=tier.pay_percent,
        perks=list(tier.perks),
        next=tier_definition(programme, following) if following else None,
        member_id=member.id,
        programme=programme,
    )


async def member_stats(info: strawberry.Info, member: MemberRecord) -> MemberStats:
    stats = await info.context.loaders.member_stats.load((member.id, info.context.now()))
    return MemberStats(
        order_count=stats.order_count,
        total_spend=stats.total_spend,
        average_order_value=stats.average_order_value,
        spend_last_12_months=stats.spend_last_12_months,
        first_purchase_at=stats.first_purchase_at,
        last_purchase_at=stats.last_purchase_at,
    )


async def member_purchases(
    info: strawberry.Info, member: MemberRecord, first: int, after: str | None
) -> PurchaseConnection:
    check_page_size(first)
    after_id = decode_cursor(after, "Purchase") if after else None
    page = await info.context.loaders.member_purchases.load((member.id, first, after_id))
    edges = [
        PurchaseEdge(node=purchase_object(p), cursor=encode_cursor("Purchase", p.id))
        for p in page.purchases
    ]
    return PurchaseConnection(
        edges=edges,
        page_info=PageInfo.of([e.cursor for e in edges], has_next=page.has_next, after=after),
    )

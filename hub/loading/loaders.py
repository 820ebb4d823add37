"""Per-request dataloaders, one per (entity, key), so list fields never query per item."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime
from decimal import Decimal
from functools import cached_property, partial
from typing import TYPE_CHECKING, Any, TypeVar

from strawberry.dataloader import DataLoader

from hub.loading import member_records as member_loaders
from identity.records import IdentityRecord, MemberRecord, MergeRecord
from identity.reviews import IdentityReview, reviews_by_ids
from ledger import merges as ledger_merges
from ledger import queries as ledger_queries
from ledger import rule_store
from ledger.benefits import queries as coupon_queries
from ledger.benefits import templates as coupon_templates
from ledger.benefits.model import Coupon, CouponTemplate, TemplateStats
from ledger.model import Balances, LedgerEntry
from ledger.promotion_rules import TierRule
from ledger.reviews import Review, load_reviews
from sync import tiers
from sync.campaigns.consent import Consent, consents_of
from sync.campaigns.model import Campaign
from sync.campaigns.store import load_campaigns
from sync.campaigns.touches import Touch, touches_of
from sync.intelligence import queries as intelligence
from sync.purchases import coupon_stats
from sync.purchases import pricing as purchase_pricing
from sync.purchases import queries as purchase_queries
from sync.purchases.records import PurchaseItemRecord, PurchaseRecord

Execute = Callable[..., Awaitable[Any]]


class Loaders:
    """Created for each request; each area adds its loaders as cached properties."""

    def __init__(self, execute: Execute) -> None:
        self.execute = execute

    @cached_property
    def member(self) -> DataLoader[int, MemberRecord | None]:
        """Members by their own ID (no merge resolution)."""
        return DataLoader(partial(member_loaders.members_by_id, self.execute))

    @cached_property
    def member_identities(self) -> DataLoader[int, list[IdentityRecord]]:
        return DataLoader(partial(member_loaders.identities_by_member, self.execute))

    @cached_property
    def identity(self) -> DataLoader[int, IdentityRecord | None]:
        return DataLoader(partial(member_loaders.identities_by_id, self.execute))

    @cached_property
    def merge(self) -> DataLoader[int, MergeRecord | None]:
        return DataLoader(partial(member_loaders.merges_by_id, self.execute))

    @cached_property
    def merges_into(self) -> DataLoader[int, list[MergeRecord]]:
        """Merges whose survivor is the member, newest first."""
        return DataLoader(partial(member_loaders.merges_by_survivor, self.execute))

    @cached_property
    def identity_review(self) -> DataLoader[int, IdentityReview | None]:
        return DataLoader(partial(reviews_by_ids, self.execute))

    @cached_property
    def merge_shortfall(self) -> DataLoader[int, int | None]:
        """Points an unmerge settled as the survivor's debt, by merge; None if not undone."""
        return DataLoader(partial(ledger_merges.load_shortfalls, self.execute))

    @cached_property
    def points_balances(self) -> DataLoader[int, Balances]:
        return DataLoader(partial(ledger_queries.load_balances, self.execute))

    @cached_property
    def points_open_lots(self) -> DataLoader[int, list[ledger_queries.ExpiringLot]]:
        """Unspent AVAILABLE lots by member, earliest expiry first."""
        return DataLoader(partial(ledger_queries.load_open_lots, self.execute))

    @cached_property
    def ledger_history(
        self,
    ) -> DataLoader[tuple[int, ledger_queries.HistoryQuery], ledger_queries.HistoryPage]:
        return DataLoader(partial(ledger_queries.load_history, self.execute))

    @cached_property
    def ledger_entry(self) -> DataLoader[int, LedgerEntry | None]:
        return DataLoader(partial(ledger_queries.load_entries, self.execute))

    @cached_property
    def purchase(self) -> DataLoader[int, PurchaseRecord | None]:
        return DataLoader(partial(purchase_queries.load_purchases, self.execute))

    @cached_property
    def purchase_items(self) -> DataLoader[int, list[PurchaseItemRecord]]:
        return DataLoader(partial(purchase_queries.load_items, self.execute))

    @cached_property
    def member_purchases(
        self,
    ) -> DataLoader[tuple[int, int, int | None], purchase_queries.PurchasePage]:
        """Pages of a member's purchases by (member, first, after purchase ID)."""
        return DataLoader(partial(purchase_queries.load_member_purchases, self.execute))

    @cached_property
    def member_stats(self) -> DataLoader[tuple[int, datetime], purchase_queries.MemberStats]:
        return DataLoader(partial(purchase_queries.load_stats, self.execute))

    @cached_property
    def current_tier(self) -> DataLoader[int, tiers.MemberTier]:
        return DataLoader(partial(tiers.load_current_tiers, self.execute))

    @cached_property
    def window_spend(self) -> DataLoader[tuple[int, datetime, datetime], Decimal]:
        """Spend by (member, window start, window end)."""
        return DataLoader(partial(tiers.load_window_spend, self.execute))

    @cached_property
    def fraud_review(self) -> DataLoader[int, Review | None]:
        return DataLoader(partial(load_reviews, self.execute))

    @cached_property
    def rfm(self) -> DataLoader[int, intelligence.RfmRecord | None]:
        return DataLoader(partial(intelligence.load_rfm, self.execute))

    @cached_property
    def lifecycle(self) -> DataLoader[int, str | None]:
        return DataLoader(partial(intelligence.load_lifecycle, self.execute))

    @cached_property
    def member_tags(self) -> DataLoader[int, list[intelligence.MemberTagRecord]]:
        return DataLoader(partial(intelligence.load_member_tags, self.execute))

    @cached_property
    def member_segments(self) -> DataLoader[int, list[int]]:
        return DataLoader(partial(intelligence.load_member_segments, self.execute))

    @cached_property
    def member_consents(self) -> DataLoader[int, list[Consent]]:
        async def load(ids: list[int]) -> list[list[Consent]]:
            found = await consents_of(self.execute, ids)
            return [found[m] for m in ids]

        return DataLoader(load)

    @cached_property
    def campaign(self) -> DataLoader[int, Campaign | None]:
        return DataLoader(partial(load_campaigns, self.execute))

    @cached_property
    def member_campaign_touches(self) -> DataLoader[int, list[Touch]]:
        return DataLoader(partial(touches_of, self.execute))

    @cached_property
    def tag(self) -> DataLoader[int, intelligence.TagRecord | None]:
        return DataLoader(partial(intelligence.load_tags, self.execute))

    @cached_property
    def segment(self) -> DataLoader[int, intelligence.SegmentRecord | None]:
        return DataLoader(partial(intelligence.load_segments, self.execute))

    @cached_property
    def tag_member_count(self) -> DataLoader[int, int]:
        return DataLoader(partial(intelligence.load_tag_counts, self.execute))

    @cached_property
    def segment_member_count(self) -> DataLoader[int, int]:
        return DataLoader(partial(intelligence.load_segment_counts, self.execute))

    @cached_property
    def segment_page(self) -> DataLoader[tuple[int, int, int], intelligence.SegmentPage]:
        """Pages of a segment's members by (segment, first, after member ID)."""
        return DataLoader(partial(intelligence.load_segment_pages, self.execute))

    @cached_property
    def coupon(self) -> DataLoader[int, Coupon | None]:
        return DataLoader(partial(coupon_queries.load_coupons, self.execute))

    @cached_property
    def coupon_template(self) -> DataLoader[int, CouponTemplate | None]:
        return DataLoader(partial(coupon_templates.load_templates, self.execute))

    @cached_property
    def coupon_wallet(
        self,
    ) -> DataLoader[tuple[int, coupon_queries.WalletQuery], coupon_queries.WalletPage]:
        """Pages of a member's coupons by (member, page query)."""
        return DataLoader(partial(coupon_queries.load_wallets, self.execute))

    @cached_property
    def coupon_template_stats(self) -> DataLoader[tuple[int, datetime], TemplateStats]:
        """Statistics by (template, the moment statuses are seen at)."""
        return DataLoader(partial(coupon_stats.load_template_stats, self.execute))

    @cached_property
    def tier_ladder(self) -> DataLoader[int, tuple[TierRule, ...]]:
        """The stored tier ladder under the key 0 (empty: the settings' ladder applies)."""
        return DataLoader(partial(rule_store.stored_ladders, self.execute))

    @cached_property
    def purchase_breakdown(self) -> DataLoader[int, list[tuple[str, int]]]:
        """A purchase's points by cause."""
        return DataLoader(partial(purchase_pricing.breakdowns, self.execute))

    @cached_property
    def promotion_points(self) -> DataLoader[int, int]:
        return DataLoader(partial(purchase_pricing.points_by_promotion, self.execute))


K = TypeVar("K")
V = TypeVar("V")
R = TypeVar("R")

if TYPE_CHECKING:
    Loaded = R | Awaitable[R]
else:

    class Loaded:
        """``Loaded[T]``: a resolver's answer, ``T`` now or an awaitable of it.

        Strawberry takes a field's GraphQL type from the annotation, so at run time this
        is just ``T``; graphql-core awaits an answer that is still loading."""

        def __class_getitem__(cls, item: Any) -> Any:
            return item


def load_then(loader: DataLoader[K, V], key: K, then: Callable[[V], R]) -> Loaded[R]:
    """``then`` of the loaded value: at once when the request already holds it, else later.

    A resolver returning a plain value is completed by graphql-core in place; an awaitable
    costs a coroutine and a task of the gather over its siblings. Values primed by an
    earlier read (``hub.loading.member_lookup``) or loaded by a sibling are common in lookups.
    """
    future = loader.load(key)
    if future.done() and not future.cancelled() and future.exception() is None:
        return then(future.result())
    return _then(future, then)


async def _then(future: Awaitable[V], then: Callable[[V], R]) -> R:
    return then(await future)

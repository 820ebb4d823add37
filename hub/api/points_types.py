"""GraphQL types of the points ledger: PointsAccount, LedgerEntry and their connections.

Every field of ``PointsAccount`` reads through a dataloader, so ``points`` on a list of
members costs one query per field, not one per member.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from operator import attrgetter
from typing import Any

import strawberry
from graphql import GraphQLError

from hub.api.enums import Channel
from hub.api.node import Node, node_loader, node_object
from hub.api.pagination import (
    Connection,
    Edge,
    PageInfo,
    check_page_size,
    decode_cursor,
    encode_cursor,
)
from hub.api.purchase_types import FraudReviewObject, review_object
from hub.http.permissions import ForbiddenError, allowed
from hub.http.principal import Scope
from hub.loading.loaders import Loaded, load_then
from identity import model as identity_model
from ledger import checks
from ledger.model import Bucket, EntryKind
from ledger.model import LedgerEntry as Entry
from ledger.queries import HistoryQuery, expiring_within

LedgerEntryKind = strawberry.enum(EntryKind, name="LedgerEntryKind")
PointsBucket = strawberry.enum(
    Bucket,
    name="PointsBucket",
    description=(
        "PENDING: earned but not yet usable (settles T+N days after the purchase). "
        "HELD: recorded but not credited until an operator approves it."
    ),
)
FraudOutcome = strawberry.enum(checks.FraudOutcome, name="FraudOutcome")

CURSOR_KIND = "LedgerEntry"


@strawberry.type(name="LedgerEntry")
class LedgerEntryObject(Node):
    entry: strawberry.Private[Entry]
    kind: LedgerEntryKind
    bucket: PointsBucket
    amount: int = strawberry.field(description="Signed: positive credits, negative debits.")
    balance_after: int
    # Lazy: the Member type (in member_types) refers to PointsAccount here.
    channel: Channel
    store_id: strawberry.ID | None
    reference: str | None
    reason: str | None
    created_at: datetime
    available_at: datetime | None = strawberry.field(
        description="When pending points become available."
    )
    expires_at: datetime | None = strawberry.field(
        description="When credited points expire unless spent first."
    )

    @strawberry.field
    async def reverses(self, info: strawberry.Info) -> LedgerEntryObject | None:
        if self.entry.reverses_id is None:
            return None
        found = await info.context.loaders.ledger_entry.load(self.entry.reverses_id)
        return None if found is None else ledger_entry_object(found)


def ledger_entry_object(entry: Entry) -> LedgerEntryObject:
    return node_object(
        LedgerEntryObject,
        "LedgerEntry",
        entry,
        entry=entry,
        channel=identity_model.Channel(entry.channel.value),
        store_id=strawberry.ID(entry.store_id) if entry.store_id is not None else None,
    )


LedgerEntryEdge = Edge[LedgerEntryObject]


@strawberry.type
class LedgerEntryConnection(Connection[LedgerEntryObject]):
    """A page of LedgerEntry edges."""


@strawberry.type
class ExpiringPoints:
    points: int
    expires_at: datetime


@strawberry.type
class PointsAccount:
    member_id: strawberry.Private[int]

    @strawberry.field
    def available(self, info: strawberry.Info) -> Loaded[int]:
        return load_then(
            info.context.loaders.points_balances, self.member_id, attrgetter("available")
        )

    @strawberry.field
    def pending(self, info: strawberry.Info) -> Loaded[int]:
        return load_then(
            info.context.loaders.points_balances, self.member_id, attrgetter("pending")
        )

    @strawberry.field
    async def lifetime_earned(self, info: strawberry.Info) -> int:
        return (await info.context.loaders.points_balances.load(self.member_id)).lifetime_earned

    @strawberry.field(description="Unspent points expiring within the days given, by expiry.")
    async def expiring_soon(
        self, info: strawberry.Info, within_days: int | None = 30
    ) -> list[ExpiringPoints]:
        within_days = 30 if within_days is None else within_days
        if within_days < 0:
            raise GraphQLError(
                "`withinDays` must not be negative", extensions={"code": "INVALID_INPUT"}
            )
        now = info.context.now()
        lots = await info.context.loaders.points_open_lots.load(self.member_id)
        return [
            ExpiringPoints(points=lot.points, expires_at=lot.expires_at)
            for lot in expiring_within(lots, now=now, until=now + timedelta(days=within_days))
        ]

    @strawberry.field(description="Entries newest first.")
    async def history(
        self,
        info: strawberry.Info,
        first: int | None = 20,
        after: str | None = None,
        kinds: list[LedgerEntryKind] | None = None,
    ) -> LedgerEntryConnection:
        first = 20 if first is None else first
        check_page_size(first)
        query = HistoryQuery(
            first=first,
            before_seq=decode_cursor(after, CURSOR_KIND) if after is not None else None,
            kinds=tuple(kinds) if kinds else None,
        )
        page = await info.context.loaders.ledger_history.load((self.member_id, query))
        edges = [
            LedgerEntryEdge(node=ledger_entry_object(e), cursor=encode_cursor(CURSOR_KIND, e.seq))
            for e in page.entries
        ]
        return LedgerEntryConnection(
            edges=edges,
            page_info=PageInfo.of([e.cursor for e in edges], has_next=page.has_next, after=after),
        )


def member_points(root: Any) -> PointsAccount:
    """The resolver of ``Member.points`` (``root`` is the Member): no query here, each field
    of the account batches through the loaders."""
    return PointsAccount(member_id=root.record.id)


@strawberry.type
class FraudDecision:
    outcome: FraudOutcome
    reasons: list[str] = strawberry.field(
        description="Stable rule codes, e.g. DUPLICATE_RECEIPT, VELOCITY_MEMBER_DAY."
    )
    review_id: strawberry.Private[int | None] = None

    @strawberry.field(description="The review case of held points (operators only).")
    async def review(self, info: strawberry.Info) -> FraudReviewObject | None:
        if self.review_id is None or not info.context.principal.is_admin:
            return None
        found = await info.context.loaders.fraud_review.load(self.review_id)
        return None if found is None else review_object(found)


def fraud_decision(decision: checks.Decision, review_id: int | None = None) -> FraudDecision:
    return FraudDecision(
        outcome=decision.outcome, reasons=list(decision.reasons), review_id=review_id
    )


@node_loader("LedgerEntry")
async def load_ledger_entry_node(info: strawberry.Info, key: str) -> LedgerEntryObject | None:
    if not key.isdigit():
        return None
    found = await info.context.loaders.ledger_entry.load(int(key))
    principal = info.context.principal
    if found is None:
        return None
    if not (allowed(principal, (Scope.MEMBERS_READ,)) or principal.member_id == found.member_id):
        raise ForbiddenError("this call needs the scope members:read")
    return ledger_entry_object(found)

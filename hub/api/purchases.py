"""Purchases and refunds from every channel; the programme's tiers.

A POS client writes only its own store; partners (an online shop's server) need the
``purchases:write`` scope. A member token records no purchase: a sale earns points, points
are money, and only a till or a shop's server can vouch for a sale (FORBIDDEN).
``recordPurchases`` answers each purchase as ``recordPurchase`` would, in input order, and
one bad purchase never loses the others: runs of purchases bought by a member ID are
recorded a run per transaction (``sync.purchases.runs``; the purchases of buyers that a
concurrent transaction holds follow in a second one), the rest one per transaction.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

import strawberry

from hub.api.coupon_types import CouponQuote, quote_object
from hub.api.direct_inputs import direct_input
from hub.api.member_inputs import IdentityInput
from hub.api.member_types import Channel, MemberObject, member_object
from hub.api.points_types import FraudDecision, fraud_decision
from hub.api.purchase_types import (
    PurchaseObject,
    may_see_purchase,
    purchase_object,
)
from hub.errors import ErrorCode, UserError, to_user_error, user_error
from hub.execution.context import Context
from hub.http.permissions import ForbiddenError, allowed, bounds_errors, requires
from hub.http.principal import ClientKind, Principal, Scope
from hub.ids import InvalidGlobalId, decode_int_id
from hub.wiring import ingest_config, ledger_config
from identity import model as identity_model
from ledger.benefits.till import Claimed
from ledger.model import add_months
from sync.purchases.queries import purchase_by_receipt
from sync.purchases.recording import DOMAIN_ERRORS, record_purchases
from sync.purchases.refunds import RefundRequest, refund_purchase
from sync.purchases.requests import Item, PurchaseOutcome, PurchaseRequest

MAX_BATCH = 500


@direct_input
@strawberry.input
class PurchaseItemInput:
    sku: str
    category: str | None = None
    quantity: int
    unit_price: Decimal


@direct_input
@strawberry.input
class PurchaseInput:
    store_id: strawberry.ID = strawberry.field(
        description="Store (or online shop) code; a POS client may only write its own store."
    )
    receipt_no: str = strawberry.field(
        description="Unique within the store across every channel; (storeId, receiptNo) is "
        "the idempotency key."
    )
    channel: Channel
    occurred_at: datetime
    amount: Decimal
    member_id: strawberry.ID | None = strawberry.field(
        default=None,
        description="The buyer: a member ID or identities the channel saw (card, phone, "
        "OpenID). Unknown identities enrol a new member.",
    )
    identities: list[IdentityInput] | None = None
    operator_id: str | None = strawberry.field(
        default=None, description="Cashier or staff ID at the till."
    )
    items: list[PurchaseItemInput] | None = None
    coupon_codes: list[str] | None = strawberry.field(
        default=None,
        description="Coupons used on this purchase; each is redeemed once, in the purchase's"
        " transaction, and a replay redeems nothing again.",
    )


@direct_input
@strawberry.input
class RefundInput:
    store_id: strawberry.ID
    receipt_no: str
    refund_no: str = strawberry.field(
        description="Unique per refund; a retry returns the first result."
    )
    amount: Decimal
    occurred_at: datetime


@strawberry.type
class RecordPurchasePayload:
    purchase: PurchaseObject | None = None
    points_earned: int = 0
    decision: FraudDecision | None = None
    replayed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)
    member_id: strawberry.Private[int | None] = None
    redeemed: strawberry.Private[tuple[Claimed, ...]] = ()

    @strawberry.field(description="Coupons redeemed by this purchase, with their discounts.")
    def coupons(self, info: strawberry.Info) -> list[CouponQuote]:
        now = info.context.now()
        return [quote_object(c.coupon, c.quote, now) for c in self.redeemed]

    @strawberry.field
    async def member(self, info: strawberry.Info) -> MemberObject | None:
        if self.member_id is None:
            return None
        found = await info.context.loaders.member.load(self.member_id)
        return member_object(found) if found is not None else None


@strawberry.type
class RefundPayload:
    purchase: PurchaseObject | None = None
    points_clawed_back: int = strawberry.field(
        default=0, description="Points taken back for the refunded share, as a positive number."
    )
    replayed: bool = False
    user_errors: list[UserError] = strawberry.field(default_factory=list)


def _store_error(principal: Principal, store_id: str) -> UserError | None:
    """A till writes its own store only."""
    if (
        principal.kind is ClientKind.POS
        and not principal.is_admin
        and store_id != principal.store_id
    ):
        return user_error(
            ErrorCode.FORBIDDEN,
            "a POS client may write only its own store",
            ["input", "storeId"],
        )
    return None


def _caller_error(principal: Principal, input: PurchaseInput) -> UserError | None:
    if principal.kind is ClientKind.MEMBER:
        return user_error(
            ErrorCode.FORBIDDEN,
            "purchases are reported by the till or the shop's server, not by the member",
            ["input"],
        )
    if not allowed(principal, (Scope.PURCHASES_WRITE,)):
        return user_error(ErrorCode.FORBIDDEN, "this call needs the scope purchases:write")
    return _store_error(principal, str(input.store_id))


def _request(input: PurchaseInput) -> PurchaseRequest:
    member_id = decode_int_id(str(input.member_id), "Member") if input.member_id else None
    return PurchaseRequest(
        store_id=str(input.store_id),
        receipt_no=input.receipt_no,
        channel=identity_model.Channel(input.channel.value),
        occurred_at=input.occurred_at,
        amount=input.amount,
        member_id=member_id,
        identities=tuple(i.to_raw() for i in input.identities or ()),
        operator_id=input.operator_id,
        items=tuple(
            Item(sku=i.sku, quantity=i.quantity, unit_price=i.unit_price, category=i.category)
            for i in input.items or ()
        ),
        coupon_codes=tuple(input.coupon_codes or ()),
    )


def _answer(answer: PurchaseOutcome | Exception) -> RecordPurchasePayload:
    if isinstance(answer, DOMAIN_ERRORS):
        return RecordPurchasePayload(user_errors=[to_user_error(answer, field_prefix=("input",))])
    assert isinstance(answer, PurchaseOutcome)
    purchase = answer.purchase
    return RecordPurchasePayload(
        purchase=purchase_object(purchase),
        member_id=purchase.member_id,
        points_earned=purchase.points_earned,
        decision=fraud_decision(answer.decision, purchase.review_id),
        replayed=answer.replayed,
        redeemed=answer.coupons,
    )


def _accepted(context: Context, input: PurchaseInput) -> PurchaseRequest | UserError:
    """The request of ``input``, or why this caller may not send it."""
    refused = _caller_error(context.principal, input)
    if refused is not None:
        return refused
    out_of_bounds = bounds_errors({"input": input})
    if out_of_bounds:
        return out_of_bounds[0]
    oldest = add_months(context.now(), -context.settings.points_expiry_months)
    if input.occurred_at.tzinfo is not None and input.occurred_at < oldest:
        # Points earned that long ago would have expired already: no till sends such a date.
        return user_error(
            ErrorCode.INVALID_INPUT,
            f"occurredAt is older than {context.settings.points_expiry_months} months",
            ["input", "occurredAt"],
        )
    try:
        return _request(input)
    except InvalidGlobalId as error:
        return to_user_error(error, field_prefix=("input", "memberId"))


async def _record(context: Context, requests: list[PurchaseRequest]) -> list[RecordPurchasePayload]:
    principal = context.principal
    answers = await record_purchases(
        context.transact,
        requests,
        may_enrol=allowed(principal, (Scope.MEMBERS_WRITE,)),
        actor=principal.name,
        now=context.now(),
        config=ingest_config(context.settings),
    )
    return [_answer(answer) for answer in answers]


async def _record_batch(
    context: Context, inputs: list[PurchaseInput]
) -> list[RecordPurchasePayload]:
    payloads: dict[int, RecordPurchasePayload] = {}
    requests: dict[int, PurchaseRequest] = {}
    for n, input in enumerate(inputs):
        accepted = _accepted(context, input)
        if isinstance(accepted, UserError):
            payloads[n] = RecordPurchasePayload(user_errors=[accepted])
        else:
            requests[n] = accepted
    recorded = await _record(context, list(requests.values())) if requests else []
    payloads.update(zip(requests, recorded, strict=True))
    answers = [payloads[n] for n in range(len(inputs))]
    for index, payload in enumerate(answers):
        for error in payload.user_errors:
            # Each error names its purchase: ["inputs", "3", ...] instead of ["input", ...].
            if error.field and error.field[0] == "input":
                error.field = ["inputs", str(index), *error.field[1:]]
    return answers


@strawberry.type
class PurchaseQuery:
    @strawberry.field
    @requires(Scope.MEMBERS_READ, Scope.SELF)
    async def purchase(
        self, info: strawberry.Info, store_id: strawberry.ID, receipt_no: str
    ) -> PurchaseObject | None:
        found = await purchase_by_receipt(info.context.execute, str(store_id), receipt_no)
        if found is None:
            return None
        if not may_see_purchase(info.context.principal, found):
            raise ForbiddenError("this call needs the scope members:read")
        return purchase_object(found)


@strawberry.type
class PurchaseMutation:
    @strawberry.mutation(description="Record one purchase; a retry of a receipt replays it.")
    @requires(Scope.PURCHASES_WRITE, Scope.SELF)
    async def record_purchase(
        self, info: strawberry.Info, input: PurchaseInput
    ) -> RecordPurchasePayload:
        accepted = _accepted(info.context, input)
        if isinstance(accepted, UserError):
            return RecordPurchasePayload(user_errors=[accepted])
        return (await _record(info.context, [accepted]))[0]

    @strawberry.mutation(
        description=f"An offline batch of up to {MAX_BATCH} purchases, each processed and "
        "answered on its own, in input order."
    )
    @requires(Scope.PURCHASES_WRITE, Scope.SELF, itemwise="inputs")
    async def record_purchases(
        self, info: strawberry.Info, inputs: list[PurchaseInput]
    ) -> list[RecordPurchasePayload]:
        if len(inputs) > MAX_BATCH:
            error = user_error(
                ErrorCode.LIMIT_EXCEEDED,
                f"{len(inputs)} purchases in one batch; the limit is {MAX_BATCH}",
                ["inputs"],
            )
            return [RecordPurchasePayload(user_errors=[error])]
        return await _record_batch(info.context, inputs)

    @strawberry.mutation(description="Refund part or all of a purchase; claws back its points.")
    @requires(Scope.PURCHASES_WRITE)
    async def refund_purchase(self, info: strawberry.Info, input: RefundInput) -> RefundPayload:
        context = info.context
        refused = _store_error(context.principal, str(input.store_id))
        if refused is not None:
            return RefundPayload(user_errors=[refused])
        request = RefundRequest(
            store_id=str(input.store_id),
            receipt_no=input.receipt_no,
            refund_no=input.refund_no,
            amount=input.amount,
            occurred_at=input.occurred_at,
        )
        try:
            outcome = await context.transact(
                lambda session: refund_purchase(
                    session, request, now=context.now(), config=ledger_config(context.settings)
                )
            )
        except DOMAIN_ERRORS as error:
            return RefundPayload(user_errors=[to_user_error(error, field_prefix=("input",))])
        return RefundPayload(
            purchase=purchase_object(outcome.purchase),
            points_clawed_back=outcome.points_clawed_back,
            replayed=outcome.replayed,
        )

"""Recording purchases a run at a time: one purchase is a run of one.

``record_purchase_run`` answers a run of purchases as if each were recorded alone, one
after another, in one transaction and a fixed number of statements: one
read each of the receipts already stored and of the buyers (those named by identities
resolved together: ``sync.purchases.buyers``), the stores, the members' locks
and their tiers, then the ledger's ``post_batch`` (every anti-fraud rule, in its batch
form), one INSERT for the purchases and one for their items, the tier upgrades and one
INSERT for the events. A purchase refused (bad input, unknown member, a receipt claimed
with other content) writes nothing and leaves the others be.

With ``skip_busy_members`` a run records at once the purchases of the buyers (and the
identities naming them) no other transaction holds and leaves the others (all of a
buyer's, so each buyer's purchases keep their order) for the caller's next transaction:
concurrent batches sharing a few members then queue only for those.

``plan_runs`` cuts a batch into runs and the purchases that go alone (runs of one): those
dated at or after ``now`` (an upgrade in the run would price them), and a receipt repeated
in the batch (which replays the first). Purchases using coupons stay in the run: their
coupons are claimed together (``sync.purchases.coupons``), and one that cannot be used
sends the run one by one, where it is refused alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession

from bus.hooks import publish_many
from identity.errors import IdentityError
from identity.errors import MemberNotFound as UnknownMember
from identity.lookup import active_member_ids
from ledger.batch_posting import BatchOperation, post_batch
from ledger.benefits.errors import BenefitsError
from ledger.benefits.till import redeem_claimed
from ledger.checks import ACCEPTED
from ledger.entries import Account
from ledger.fraud import PURCHASE
from ledger.model import business_day
from ledger.posting import lock_members
from sync.purchases.buyers import Buyers, known_buyers, note_buyer_identities, resolve_buyers
from sync.purchases.coupons import claim_purchase_coupons, coupons_of_replay
from sync.purchases.fresh import FreshPurchase, insert_purchases
from sync.purchases.pricing import (
    ToPrice,
    load_pricing,
    price_purchases,
    store_breakdowns,
    with_coupons,
)
from sync.purchases.queries import purchases_by_receipts
from sync.purchases.records import PurchaseRecord
from sync.purchases.requests import (
    IngestConfig,
    InvalidPurchase,
    PurchaseError,
    PurchaseOutcome,
    PurchaseRequest,
    validate_purchase,
)
from sync.purchases.rows import (
    earn_entry,
    fraud_facts,
    insert_items,
    item_rows,
    recorded_event,
    replay,
)
from sync.stores import ensure_stores
from sync.tiers import tiers_at, upgrade_after_purchases

#: What a purchase of a run is answered: its outcome, or why it was refused.
Answer = PurchaseOutcome | PurchaseError | IdentityError


class RunNotJudgeable(Exception):
    """The anti-fraud checks cannot judge the run as a whole: record it one by one."""


def plan_runs(requests: Sequence[PurchaseRequest], *, now: datetime) -> list[list[int]]:
    """The batch's positions in groups, in order: each group is a run."""
    groups: list[list[int]] = []
    run: list[int] = []
    receipts: set[tuple[str, str]] = set()
    for n, request in enumerate(requests):
        receipt = (request.store_id.strip(), request.receipt_no.strip())
        alone = (
            request.occurred_at.tzinfo is None or request.occurred_at >= now or receipt in receipts
        )
        if alone:
            if run:
                groups.append(run)
            groups.append([n])
            run, receipts = [], set()
            continue
        run.append(n)
        receipts.add(receipt)
    if run:
        groups.append(run)
    return groups


async def record_purchase_run(
    session: AsyncSession,
    requests: Sequence[PurchaseRequest],
    *,
    now: datetime,
    config: IngestConfig,
    may_enrol: bool = False,
    actor: str = "",
    skip_busy_members: bool = False,
) -> list[Answer | None]:
    """Record a run (see ``plan_runs``) in the caller's transaction; one answer per request,
    None for one left unrecorded because another transaction holds its buyer (only with
    ``skip_busy_members``).

    Raises RunNotJudgeable before writing anything when the checks cannot judge the run as
    a whole, and ReceiptRecordedConcurrently (retryable) when another transaction stored
    one of its receipts first.
    """
    answers: list[Answer | None] = [None] * len(requests)
    cleaned: dict[int, PurchaseRequest] = {}
    for n, request in enumerate(requests):
        try:
            cleaned[n] = validate_purchase(request, now=now)
        except PurchaseError as error:
            answers[n] = error
    stored = await purchases_by_receipts(
        session.execute, [(r.store_id, r.receipt_no) for r in cleaned.values()]
    )
    buyers = await active_member_ids(
        session, (r.member_id for r in cleaned.values() if r.member_id is not None)
    )
    named = {n: r for n, r in cleaned.items() if r.member_id is None and r.identities}
    replayed = {n: r for n, r in named.items() if (r.store_id, r.receipt_no) in stored}
    known = await known_buyers(session, replayed, config.identity) if replayed else {}
    resolved = (
        await resolve_buyers(
            session,
            {n: r for n, r in named.items() if n not in replayed},
            may_enrol=may_enrol,
            actor=actor,
            now=now,
            config=config.identity,
            skip_busy=skip_busy_members,
        )
        if len(named) > len(replayed)
        else Buyers()
    )
    fresh: dict[int, int | None] = {}
    for n, request in cleaned.items():
        buyer = buyers.get(request.member_id) if request.member_id is not None else known.get(n)
        earlier = stored.get((request.store_id, request.receipt_no))
        if earlier is not None:
            answers[n] = await _replayed(session, earlier, request, buyer)
        elif request.member_id is not None and buyer is None:
            answers[n] = UnknownMember(f"no active member {request.member_id}", field=("memberId",))
        elif isinstance(found := resolved.of.get(n), IdentityError):
            answers[n] = found
        elif n in named and n not in resolved.of:
            continue  # its identities are busy: left for the caller's next transaction
        else:
            fresh[n] = buyer if request.member_id is not None else found
    if fresh:
        recorded = await _record_fresh(
            session,
            cleaned,
            fresh,
            resolved.identity_ids,
            now=now,
            config=config,
            skip_busy=skip_busy_members,
            actor=actor,
            alone=len(requests) == 1,
        )
        for n, outcome in recorded.items():
            answers[n] = outcome
    assert skip_busy_members or None not in answers, "every purchase of a run is answered"
    return answers


async def _record_fresh(
    session: AsyncSession,
    cleaned: dict[int, PurchaseRequest],
    buyers: dict[int, int | None],
    named_by: Mapping[int, tuple[int, ...]],
    *,
    now: datetime,
    config: IngestConfig,
    skip_busy: bool,
    actor: str,
    alone: bool,
) -> dict[int, PurchaseOutcome]:
    """Store the run's new purchases, those of busy buyers aside when ``skip_busy``; the
    checks see them in input order. ``named_by``: the IDs of the identities a purchase named,
    where resolving its buyer found them. ``alone``: the run is one purchase."""
    fresh = {
        n: FreshPurchase(
            cleaned[n], buyer, business_day(cleaned[n].occurred_at, config.ledger.zone)
        )
        for n, buyer in buyers.items()
    }
    stores = await ensure_stores(session, {f.request.store_id for f in fresh.values()}, now=now)
    members = sorted({f.buyer for f in fresh.values() if f.buyer is not None})
    # One member's purchases queue here: velocity, tiers and points see each other (or
    # leave the busy ones be).
    accounts = await lock_members(session, members, skip_busy=skip_busy) if members else {}
    if len(accounts) < len(members):
        fresh = {n: f for n, f in fresh.items() if f.buyer is None or f.buyer in accounts}
        if not fresh:
            return {}
    bought = [f for f in fresh.values() if f.buyer is not None]
    codes = await tiers_at(session, [(f.buyer, f.request.occurred_at) for f in bought])
    for f, code in zip(bought, codes, strict=True):
        f.tier_code = code
    try:
        claimed = await claim_purchase_coupons(
            session, {n: (f.request, f.buyer) for n, f in fresh.items()}, now
        )
    except (InvalidPurchase, BenefitsError):
        # Refused whole: alone, with its reason; in a run, the run goes one by one, so
        # nothing of it (a buyer's enrolment, say) outlives the refusal.
        if alone:
            raise
        raise RunNotJudgeable() from None
    pricing = await load_pricing(
        session, config, since=min(f.request.occurred_at for f in fresh.values())
    )
    priced = await price_purchases(
        session,
        pricing,
        [ToPrice(f.request, f.buyer, f.tier_code) for f in fresh.values()],
        config=config,
    )
    for (n, f), earning in zip(fresh.items(), priced, strict=True):
        f.city = stores[f.request.store_id].city
        multipliers = [
            (c.coupon.code, c.points_multiplier) for c in claimed.get(n, ()) if c.points_multiplier
        ]
        f.earning = with_coupons(earning, multipliers) if multipliers else earning
    if bought:
        await _post_points(session, bought, accounts, now=now, config=config)
    records = await insert_purchases(
        session, list(fresh.values()), now=now, programme=pricing.programme
    )
    items = [
        row
        for f, record in zip(fresh.values(), records, strict=True)
        for row in item_rows(record.id, f.buyer, f.request)
    ]
    await insert_items(session, items)
    await store_breakdowns(
        session,
        [(r.id, f.earning) for f, r in zip(fresh.values(), records, strict=True) if f.earning],
    )
    using = [(n, record.id) for n, record in zip(fresh, records, strict=True) if n in claimed]
    redeemed = dict(
        zip(
            [n for n, _ in using],
            await redeem_claimed(
                session, [(claimed[n], purchase) for n, purchase in using], now=now, actor=actor
            ),
            strict=True,
        )
    )
    await note_buyer_identities(
        session,
        [
            (record.id, f.request.identities, named_by.get(n))
            for (n, f), record in zip(fresh.items(), records, strict=True)
            if f.request.identities and f.buyer is not None
        ],
        config.identity,
    )
    completed = {
        r.member_id for r in records if r.member_id is not None and r.status == "COMPLETED"
    }
    if completed:
        await upgrade_after_purchases(session, completed, now=now, programme=pricing.programme)
    await publish_many(session, [recorded_event(r) for r in records])
    return {
        n: PurchaseOutcome(
            record,
            f.posted.decision if f.posted is not None else ACCEPTED,
            coupons=tuple(
                replace(c, coupon=r)
                for c, r in zip(claimed.get(n, ()), redeemed.get(n, ()), strict=True)
            ),
        )
        for (n, f), record in zip(fresh.items(), records, strict=True)
    }


async def _replayed(
    session: AsyncSession, earlier: PurchaseRecord, request: PurchaseRequest, buyer: int | None
) -> Answer:
    """The first answer again, with the coupons it redeemed (a replay redeems nothing)."""
    answer = replay(earlier, request, buyer)
    if isinstance(answer, PurchaseOutcome):
        answer = replace(answer, coupons=tuple(await coupons_of_replay(session, earlier, request)))
    return answer


async def _post_points(
    session: AsyncSession,
    bought: list[FreshPurchase],
    accounts: Mapping[int, Account],
    *,
    now: datetime,
    config: IngestConfig,
) -> None:
    operations = []
    for f in bought:
        assert f.buyer is not None
        credit = (earn_entry(f.request, f.buyer, f.points, config),) if f.points > 0 else ()
        facts = fraud_facts(f.request, member_id=f.buyer, purchase_id=None, day=f.day, city=f.city)
        operations.append(BatchOperation(requests=credit, attributes=facts))
    results = await post_batch(
        session=session,
        operations=operations,
        now=now,
        config=config.ledger,
        operation=PURCHASE,
        locked=accounts,
    )
    if results is None:
        raise RunNotJudgeable()
    for f, result in zip(bought, results, strict=True):
        if f.points > 0:
            f.posted = result

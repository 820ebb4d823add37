"""The demo written through the services the API uses, one transaction per step.

Each step runs at its own moment in the past: the ``now`` of the services is the step's
time, and the ledger's reactions to identity events read the same moment from a context
variable (``demo_clock``), so concurrent workers each keep their own.
"""

from __future__ import annotations

import random
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity.model import Channel, IdentityType, RawIdentity
from identity.resolve import Outcome, identify
from ledger.checkin import check_in
from ledger.errors import LedgerError
from ledger.model import Channel as LedgerChannel
from ledger.redemption import redeem_points
from sync.demo.people import (
    STORES,
    DemoMember,
    DemoSummary,
    between,
    items_for,
    store_for,
)
from sync.purchases.recording import record_purchase
from sync.purchases.refunds import RefundRequest, refund_purchase
from sync.purchases.requests import IngestConfig, PurchaseError, PurchaseRequest

T = TypeVar("T")

#: The moment the demo is writing at; the ledger's identity handlers read it (see cli).
demo_clock: ContextVar[datetime] = ContextVar("demo_clock")


class DemoWriter:
    """Writes the demo programme through the services, one transaction per step."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        *,
        ingest_config: IngestConfig,
        rng: random.Random,
    ) -> None:
        self.sessions = sessions
        self.ingest_config = ingest_config
        self.identity_config = ingest_config.identity
        self.ledger_config = ingest_config.ledger
        self.rng = rng
        self.summary = DemoSummary()
        self.member_ids: dict[int, int] = {}

    async def at(self, moment: datetime, work: Callable[[AsyncSession], Awaitable[T]]) -> T:
        demo_clock.set(moment)
        async with self.sessions.begin() as session:
            return await work(session)

    async def enrol(self, person: DemoMember, *, referrer: int | None) -> None:
        if person.duplicate is not None:
            await self.at(
                person.enrolled_at - timedelta(days=3),
                lambda s: self._identify(
                    s,
                    [person.duplicate],
                    Channel.MINI_PROGRAM,
                    person.enrolled_at - timedelta(days=3),
                ),
            )
        result = await self.at(
            person.enrolled_at,
            lambda s: self._identify(
                s, list(person.identities), person.channel, person.enrolled_at, referrer
            ),
        )
        assert result.member is not None
        member_id = result.member.id
        self.summary.members += 1
        self.summary.referrals += referrer is not None
        if person.duplicate is not None:
            # The mini-program asks for the phone later: the verified phone ties both.
            seen = person.enrolled_at + timedelta(days=self.rng.uniform(1, 30))
            phone = next(i for i in person.identities if i.type is IdentityType.PHONE)
            merged = await self.at(
                seen,
                lambda s: self._identify(s, [person.duplicate, phone], Channel.MINI_PROGRAM, seen),
            )
            self.summary.merges += merged.outcome is Outcome.MERGED
            member_id = merged.member.id  # the survivor: the older, mini-program member
        # Known to the others (as a possible referrer) only once it is final.
        self.member_ids[person.index] = member_id

    async def _identify(
        self,
        session: AsyncSession,
        identities: list[RawIdentity],
        channel: Channel,
        now: datetime,
        referrer: int | None = None,
    ) -> Any:
        return await identify(
            session,
            identities=identities,
            channel=channel,
            referrer_id=referrer,
            actor="demo",
            now=now,
            config=self.identity_config,
        )

    async def engage(self, person: DemoMember, *, until: datetime) -> None:
        """Check-ins in the mini-program and a redemption now and then."""
        member_id = self.member_ids[person.index]
        if person.channel is Channel.MINI_PROGRAM:
            for _ in range(self.rng.randint(0, 12)):
                moment = between(self.rng, person.enrolled_at, until)
                key = f"demo-checkin-{member_id}-{moment:%Y%m%d}"
                await self._ledger_step(
                    moment,
                    lambda s, m=moment, k=key: check_in(
                        session=s,
                        member_id=member_id,
                        channel=LedgerChannel.MINI_PROGRAM,
                        key_scope="demo",
                        key=k,
                        now=m,
                        config=self.ledger_config,
                    ),
                    "check_ins",
                )
        if self.rng.random() < 0.3:
            moment = between(self.rng, person.enrolled_at, until)
            points = self.rng.choice((50, 100, 200))
            await self._ledger_step(
                moment,
                lambda s: redeem_points(
                    session=s,
                    member_id=member_id,
                    points=points,
                    channel=LedgerChannel(person.channel.value),
                    store_id=None,
                    reason="demo reward",
                    key_scope="demo",
                    key=f"demo-redeem-{member_id}",
                    now=moment,
                    config=self.ledger_config,
                ),
                "redemptions",
            )

    async def shop(self, person: DemoMember, *, until: datetime) -> None:
        """Purchases over the member's history, in time order: many occasional buyers, a
        few heavy ones; the odd refund and the odd sale big enough to be held."""
        member_id = self.member_ids[person.index]
        rng = self.rng
        if person.heavy_buyer:
            count = rng.randint(20, 60)
        else:
            count = 0 if rng.random() < 0.15 else min(int(rng.expovariate(1 / 4)) + 1, 25)
        moments = sorted(between(rng, person.enrolled_at, until) for _ in range(count))
        home = rng.choice([store for store in STORES if store[2] is not None])[0]
        for n, moment in enumerate(moments):
            store = store_for(person.channel, home, rng)
            amount = Decimal(str(round(rng.lognormvariate(5.0, 0.8), 2)))
            if rng.random() < 0.003:
                amount = Decimal("25000.00")
            request = PurchaseRequest(
                store_id=store,
                receipt_no=f"D{member_id:07d}-{n:03d}",
                channel=Channel.POS
                if store not in ("MP-SHOP", "WEB-SHOP")
                else (Channel.MINI_PROGRAM if store == "MP-SHOP" else Channel.WEB),
                occurred_at=moment,
                amount=amount,
                member_id=member_id,
                items=items_for(amount, rng),
            )
            recorded_at = moment + timedelta(minutes=1)
            try:
                outcome = await self.at(
                    recorded_at,
                    lambda s, r=request, t=recorded_at: record_purchase(
                        s, r, may_enrol=False, actor="demo", now=t, config=self.ingest_config
                    ),
                )
            except PurchaseError:
                continue
            self.summary.purchases += 1
            self.summary.held += outcome.purchase.status == "HELD"
            if rng.random() < 0.05 and moment + timedelta(days=3) < until:
                back = amount if rng.random() < 0.5 else (amount / 2).quantize(Decimal("0.01"))
                refund = RefundRequest(
                    store_id=store,
                    receipt_no=request.receipt_no,
                    refund_no=f"{request.receipt_no}-R",
                    amount=back,
                    occurred_at=moment + timedelta(days=2),
                )
                when = moment + timedelta(days=2, minutes=1)
                await self.at(
                    when,
                    lambda s, r=refund, t=when: refund_purchase(
                        s, r, now=t, config=self.ledger_config
                    ),
                )
                self.summary.refunds += 1

    async def _ledger_step(
        self, moment: datetime, work: Callable[[AsyncSession], Awaitable[Any]], counter: str
    ) -> None:
        try:
            result = await self.at(moment, work)
        except LedgerError:
            return
        if getattr(result, "refusal", None) is None:
            setattr(self.summary, counter, getattr(self.summary, counter) + 1)

"""Demo data: a realistic programme, written through the same services the API uses.

``memberhub seed --members N`` fills stores in several cities, members enrolled over two
years on every channel (some enrolled twice and merged when a verified phone tied them),
referrals, purchases with refunds and held fraud cases, check-ins and redemptions; then
settles and expires as the jobs would have. Everything goes through identity resolution and
the ledger's posting path, so ``memberhub ledger verify`` is clean afterwards.

Each step runs in its own transaction at its own moment in the past: the ``now`` of the
services is the step's time, and the ledger's reactions to identity events read the same
moment from a context variable (``demo_clock``), so concurrent workers each keep their own.
"""

from __future__ import annotations

import asyncio
import random
from collections.abc import Awaitable, Callable
from contextvars import ContextVar
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from identity.model import Channel, IdentityType, RawIdentity
from identity.resolve import Outcome, identify
from ledger.checkin import check_in
from ledger.errors import LedgerError
from ledger.expiry import expire_lots, settle_pending
from ledger.model import Channel as LedgerChannel
from ledger.redemption import redeem_points
from sync.intelligence.refresh import Programme, refresh_member_intelligence
from sync.purchases.recording import record_purchase
from sync.purchases.refunds import RefundRequest, refund_purchase
from sync.purchases.requests import IngestConfig, Item, PurchaseError, PurchaseRequest
from sync.stores import save_store

T = TypeVar("T")

#: The moment the demo is writing at; the ledger's identity handlers read it (see cli).
demo_clock: ContextVar[datetime] = ContextVar("demo_clock")

WECHAT_APP = "wxdemo0001"
POS_SYSTEM = "demo-pos"
HISTORY_DAYS = 730

#: (store ID, name, city); online shops have no city.
STORES: tuple[tuple[str, str, str | None], ...] = (
    ("SH-001", "Shanghai Nanjing Road", "Shanghai"),
    ("SH-002", "Shanghai Xujiahui", "Shanghai"),
    ("BJ-001", "Beijing Sanlitun", "Beijing"),
    ("HZ-001", "Hangzhou West Lake", "Hangzhou"),
    ("SZ-001", "Shenzhen Futian", "Shenzhen"),
    ("CD-001", "Chengdu Taikoo Li", "Chengdu"),
    ("MP-SHOP", "Mini-program shop", None),
    ("WEB-SHOP", "Web shop", None),
)


@dataclass
class DemoSummary:
    members: int = 0
    purchases: int = 0
    held: int = 0
    refunds: int = 0
    merges: int = 0
    referrals: int = 0
    check_ins: int = 0
    redemptions: int = 0
    extra: dict[str, int] = field(default_factory=dict)

    def lines(self) -> list[str]:
        counts = {
            "members": self.members,
            "purchases": self.purchases,
            "held for review": self.held,
            "refunds": self.refunds,
            "merges": self.merges,
            "referrals": self.referrals,
            "check-ins": self.check_ins,
            "redemptions": self.redemptions,
            **self.extra,
        }
        return [f"{name}: {count}" for name, count in counts.items()]


@dataclass(frozen=True)
class DemoMember:
    """One person of the demo, and how they were enrolled."""

    index: int
    channel: Channel
    enrolled_at: datetime
    identities: tuple[RawIdentity, ...]
    #: Enrolled a second time on another channel, without the phone, before linking it.
    duplicate: RawIdentity | None
    heavy_buyer: bool


def phone_of(index: int) -> str:
    return f"+86139{index:08d}"


def plan_members(count: int, *, now: datetime, rng: random.Random) -> list[DemoMember]:
    """Who enrols when and how: mostly mini-program and till sign-ups, some on the web."""
    people = []
    for index in range(count):
        enrolled_at = now - timedelta(days=rng.uniform(1, HISTORY_DAYS))
        channel = rng.choices(
            (Channel.MINI_PROGRAM, Channel.POS, Channel.WEB), weights=(45, 40, 15)
        )[0]
        phone = RawIdentity(IdentityType.PHONE, phone_of(index), verified=True)
        if channel is Channel.MINI_PROGRAM:
            own = RawIdentity(IdentityType.WECHAT_OPENID, f"o-demo-{index:07d}", WECHAT_APP, True)
        elif channel is Channel.POS:
            own = RawIdentity(IdentityType.POS_CARD, f"C{index:09d}", POS_SYSTEM, True)
        else:
            own = RawIdentity(IdentityType.EMAIL, f"member{index}@example.com", verified=True)
        with_phone = rng.random() < 0.85
        duplicate = None
        if with_phone and channel is not Channel.MINI_PROGRAM and rng.random() < 0.05:
            # Also signed up in the mini-program without the phone; merged when it is given.
            duplicate = RawIdentity(
                IdentityType.WECHAT_OPENID, f"o-dup-{index:07d}", WECHAT_APP, True
            )
        people.append(
            DemoMember(
                index=index,
                channel=channel,
                enrolled_at=enrolled_at,
                identities=(own, phone) if with_phone else (own,),
                duplicate=duplicate,
                heavy_buyer=rng.random() < 0.05,
            )
        )
    people.sort(key=lambda person: person.enrolled_at)
    return people


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
                moment = _between(self.rng, person.enrolled_at, until)
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
            moment = _between(self.rng, person.enrolled_at, until)
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
        moments = sorted(_between(rng, person.enrolled_at, until) for _ in range(count))
        home = rng.choice([store for store in STORES if store[2] is not None])[0]
        for n, moment in enumerate(moments):
            store = _store_for(person.channel, home, rng)
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
                items=_items(amount, rng),
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


CATEGORIES = ("tea", "snacks", "beauty", "apparel", "home")


def _store_for(channel: Channel, home: str, rng: random.Random) -> str:
    if channel is Channel.MINI_PROGRAM and rng.random() < 0.7:
        return "MP-SHOP"
    if channel is Channel.WEB and rng.random() < 0.8:
        return "WEB-SHOP"
    if rng.random() < 0.9:
        return home
    return rng.choice([store for store in STORES if store[2] is not None])[0]


def _items(amount: Decimal, rng: random.Random) -> tuple[Item, ...]:
    """One to three lines whose prices add up to the amount."""
    lines = rng.randint(1, 3)
    cents = int(amount * 100)
    cuts = sorted(rng.randint(0, cents) for _ in range(lines - 1))
    parts = [b - a for a, b in zip([0, *cuts], [*cuts, cents], strict=True)]
    return tuple(
        Item(
            sku=f"SKU-{rng.randint(1, 400):04d}",
            category=rng.choice(CATEGORIES),
            quantity=1,
            unit_price=Decimal(part) / 100,
        )
        for part in parts
    )


def _between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * rng.random()


#: ``progress(step, done, total)``: called as the demo is written, for a caller to show.
Progress = Callable[[str, int, int], None]


def no_progress(step: str, done: int, total: int) -> None:
    pass


async def seed_people(
    writer: DemoWriter,
    people: list[DemoMember],
    *,
    now: datetime,
    workers: int = 4,
    progress: Progress = no_progress,
) -> None:
    """Enrol everyone (in enrolment order per worker), then let them engage."""
    queue: asyncio.Queue[DemoMember] = asyncio.Queue()
    for person in people:
        queue.put_nowait(person)
    done = 0
    progress("members", done, len(people))

    async def work() -> None:
        nonlocal done
        while not queue.empty():
            person = queue.get_nowait()
            referrer = None
            if writer.member_ids and writer.rng.random() < 0.05:
                referrer = writer.rng.choice(list(writer.member_ids.values()))
            await writer.enrol(person, referrer=referrer)
            await writer.shop(person, until=now)
            await writer.engage(person, until=now)
            done += 1
            progress("members", done, len(people))

    await asyncio.gather(*(work() for _ in range(workers)))


def demo_now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


class DemoClock:
    """The hub's clock during seeding: the moment of the step being written."""

    def now(self) -> datetime:
        return demo_clock.get()


async def seed_demo(
    sessions: async_sessionmaker[AsyncSession],
    *,
    members: int,
    ingest_config: IngestConfig,
    intelligence: Programme | None = None,
    random_seed: int = 7,
    now: datetime | None = None,
    progress: Progress = no_progress,
) -> DemoSummary:
    """Write a demo programme of ``members`` people; the same seed writes the same story."""
    now = now or demo_now()
    rng = random.Random(random_seed)
    writer = DemoWriter(sessions, ingest_config=ingest_config, rng=rng)
    progress("stores", 0, 1)
    for store_id, name, city in STORES:
        await writer.at(
            now,
            lambda s, i=store_id, n=name, c=city: save_store(
                s,
                store_id=i,
                name=n,
                city=c,
                time_zone=None,
                now=now - timedelta(days=HISTORY_DAYS),
            ),
        )
    await seed_people(writer, plan_members(members, now=now, rng=rng), now=now, progress=progress)
    ledger_config = ingest_config.ledger
    progress("settlement and expiry", 0, 1)
    # What the hourly and daily jobs would have done by now.
    settled = await writer.at(
        now, lambda s: settle_pending(session=s, now=now, config=ledger_config)
    )
    expired = await writer.at(now, lambda s: expire_lots(session=s, now=now, config=ledger_config))
    writer.summary.extra.update({"settlements": settled, "expiries": expired})
    if intelligence is not None:
        progress("RFM, lifecycle and tags", 0, 1)
        report = await writer.at(
            now, lambda s: refresh_member_intelligence(s, now=now, programme=intelligence)
        )
        writer.summary.extra["members scored by RFM"] = report.scored_members
    return writer.summary

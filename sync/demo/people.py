"""Who the demo's people are: stores, members and how they enrol, baskets; no database."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from identity.model import Channel, IdentityType, RawIdentity
from sync.purchases.requests import Item

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


CATEGORIES = ("tea", "snacks", "beauty", "apparel", "home")


def store_for(channel: Channel, home: str, rng: random.Random) -> str:
    if channel is Channel.MINI_PROGRAM and rng.random() < 0.7:
        return "MP-SHOP"
    if channel is Channel.WEB and rng.random() < 0.8:
        return "WEB-SHOP"
    if rng.random() < 0.9:
        return home
    return rng.choice([store for store in STORES if store[2] is not None])[0]


def items_for(amount: Decimal, rng: random.Random) -> tuple[Item, ...]:
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


def between(rng: random.Random, start: datetime, end: datetime) -> datetime:
    return start + (end - start) * rng.random()

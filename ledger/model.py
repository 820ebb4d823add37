"""The ledger's plain model: entries, requests, the programme's settings and small rules.

Nothing here touches the database, so every rule can be tested on its own.
"""

from __future__ import annotations

import calendar
import enum
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo


class Bucket(enum.StrEnum):
    #: Earned, not yet usable: purchase points until they settle.
    PENDING = "PENDING"
    AVAILABLE = "AVAILABLE"
    #: Recorded but not credited until an operator decides (an anti-fraud HELD outcome).
    HELD = "HELD"


class EntryKind(enum.StrEnum):
    EARN = "EARN"
    BONUS = "BONUS"
    SETTLE = "SETTLE"
    REDEEM = "REDEEM"
    EXPIRE = "EXPIRE"
    ADJUST = "ADJUST"
    REVERSAL = "REVERSAL"
    CLAWBACK = "CLAWBACK"
    MERGE_IN = "MERGE_IN"
    MERGE_OUT = "MERGE_OUT"


class Channel(enum.StrEnum):
    MINI_PROGRAM = "MINI_PROGRAM"
    WEB = "WEB"
    POS = "POS"
    PARTNER = "PARTNER"
    #: Operators, and the programme's own jobs (expiry, settlement, merges).
    ADMIN = "ADMIN"


#: Kinds that may leave AVAILABLE below zero: a clawback of spent points, or a debt that a
#: merge brings along. Everything else that debits is refused when points are short.
DEBT_KINDS = frozenset({EntryKind.CLAWBACK, EntryKind.MERGE_IN})

#: Kinds whose credits count as earned (lifetimeEarned); a CLAWBACK takes earnings back.
EARNING_KINDS = frozenset({EntryKind.EARN, EntryKind.BONUS, EntryKind.ADJUST})

#: The hash a member's first entry chains to.
GENESIS_HASH = b""


@dataclass(frozen=True)
class LedgerConfig:
    """The programme's settings, handed in by the application (the ledger reads no env)."""

    time_zone: str = "Asia/Shanghai"
    signup_bonus: int = 100
    referral_bonus: int = 100
    #: Referral bonuses one referrer is paid within ``referral_cap_days``; later referees
    #: still get their half.
    referral_cap: int = 5
    referral_cap_days: int = 30
    checkin_points: int = 2
    expiry_months: int = 12
    idempotency_days: int = 30

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.time_zone)


@dataclass(frozen=True, kw_only=True)
class EntryRequest:
    """One entry to post. ``amount`` is signed: positive credits, negative debits."""

    member_id: int
    kind: EntryKind
    bucket: Bucket
    amount: int
    channel: Channel
    store_id: str | None = None
    reference: str | None = None
    reason: str | None = None
    #: For AVAILABLE credits; unset means ``expiry_months`` after posting.
    expires_at: datetime | None = None
    #: For PENDING credits: when they settle.
    available_at: datetime | None = None
    reverses_id: int | None = None
    #: A debit that must take from this lot (its crediting entry's ID), not first-in-first-out.
    consumes_lot: int | None = None
    #: For a debit of the HELD bucket (a review's decision, a clawback): where the held
    #: points were going.
    held_for: Bucket | None = None

    def fingerprint_fields(self) -> dict[str, Any]:
        return {
            "member_id": self.member_id,
            "kind": self.kind.value,
            "bucket": self.bucket.value,
            "amount": self.amount,
            "channel": self.channel.value,
            "store_id": self.store_id,
            "reference": self.reference,
            "reason": self.reason,
        }


@dataclass(frozen=True, kw_only=True)
class LedgerEntry:
    id: int
    member_id: int
    seq: int
    kind: EntryKind
    bucket: Bucket
    amount: int
    balance_after: int
    channel: Channel
    store_id: str | None
    reference: str | None
    reason: str | None
    idempotency_key: str | None
    expires_at: datetime | None
    available_at: datetime | None
    reverses_id: int | None
    consumes_lot: int | None
    held_for: Bucket | None
    hold_reasons: tuple[str, ...] | None
    created_at: datetime
    prev_hash: bytes
    hash: bytes


@dataclass(frozen=True)
class IdempotencyKey:
    """A client's key, scoped to the client (``client:12``, ``member:7``), and the request it
    names: the same key with another request is a conflict."""

    scope: str
    key: str
    request: dict[str, Any] = field(hash=False)


@dataclass(frozen=True)
class Balances:
    available: int = 0
    pending: int = 0
    held: int = 0
    lifetime_earned: int = 0


def business_day(moment: datetime, zone: ZoneInfo) -> date:
    return moment.astimezone(zone).date()


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock moment ``months`` later; the 31st becomes the month's last day."""
    month_index = moment.month - 1 + months
    year, month = moment.year + month_index // 12, month_index % 12 + 1
    day = min(moment.day, calendar.monthrange(year, month)[1])
    return moment.replace(year=year, month=month, day=day)


def lifetime_delta(kind: EntryKind, bucket: Bucket, amount: int) -> int:
    """How an entry changes lifetimeEarned: earning credits add, clawbacks take back."""
    if bucket is Bucket.HELD:
        return 0
    if kind in EARNING_KINDS and amount > 0:
        return amount
    if kind is EntryKind.CLAWBACK:
        return amount
    return 0


def idempotency_expiry(now: datetime, config: LedgerConfig) -> datetime:
    return now + timedelta(days=config.idempotency_days)

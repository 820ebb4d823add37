"""The anti-fraud rules every earn and redeem passes, from any channel.

Each rule is a check in ``ledger.checks`` with a stable code; its thresholds come from the
settings through ``FraudConfig``. Checks run after the posting path has locked the member,
so each one's query sees every earlier posting of that member committed. They read the
purchase facts the ingest passes as attributes, and, for history, the purchases, stores,
staff and identity tables by SQL (the ledger still knows a member only by its ID).

DUPLICATE_RECEIPT is enforced before any posting, by the unique (store, receipt) of
purchases: see ``sync.ingest``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.checks import CheckRegistry, CheckResult, FraudOutcome, Posting, checks
from ledger.model import business_day

PURCHASE = "purchase"
REDEEM = "redeem"


@dataclass(frozen=True)
class FraudConfig:
    max_purchases_per_day: int = 10
    max_points_per_day: int = 5_000
    large_amount: Decimal = Decimal("20000")
    travel_minutes: int = 30
    new_identity_hours: int = 24
    new_identity_redeem_points: int = 500


def _held(code: str, message: str) -> CheckResult:
    return CheckResult(FraudOutcome.HELD, code, message)


def _earned(posting: Posting) -> int:
    return sum(e.amount for e in posting.entries if e.amount > 0)


def _member(posting: Posting) -> int:
    return posting.entries[0].member_id


def register_fraud_checks(config: FraudConfig, registry: CheckRegistry = checks) -> None:
    """Register (or re-register with new thresholds) every rule."""

    async def velocity(session: AsyncSession, posting: Posting) -> CheckResult | None:
        row = (
            await session.execute(
                text(
                    "SELECT count(*) AS purchases, coalesce(sum(points_earned), 0) AS points"
                    " FROM purchases WHERE member_id = :member AND business_day = :day"
                    " AND id <> :purchase AND points_earned > 0 AND status <> 'REJECTED'"
                ),
                {
                    "member": _member(posting),
                    "day": posting.attributes.get("business_day")
                    or business_day(posting.now, posting.config.zone),
                    "purchase": posting.attributes.get("purchase_id", 0),
                },
            )
        ).one()
        if row.purchases + 1 > config.max_purchases_per_day:
            return _held("VELOCITY_MEMBER_DAY", f"{row.purchases + 1} earning purchases today")
        if row.points + _earned(posting) > config.max_points_per_day:
            return _held("VELOCITY_MEMBER_DAY", f"{row.points + _earned(posting)} points today")
        return None

    async def large_amount(session: AsyncSession, posting: Posting) -> CheckResult | None:
        if "amount" not in posting.attributes:
            return None
        amount = Decimal(posting.attributes["amount"])
        if amount > config.large_amount:
            return _held("LARGE_AMOUNT", f"a purchase of {amount} yuan")
        return None

    async def staff_self_dealing(session: AsyncSession, posting: Posting) -> CheckResult | None:
        operator = posting.attributes.get("operator_id")
        if not operator:
            return None
        cashier = await session.scalar(
            text("SELECT member_id FROM staff WHERE operator_id = :operator"),
            {"operator": operator},
        )
        if cashier == _member(posting):
            return _held("STAFF_SELF_DEALING", f"cashier {operator} rang up their own purchase")
        return None

    async def impossible_travel(session: AsyncSession, posting: Posting) -> CheckResult | None:
        city = posting.attributes.get("city")
        if not city:
            return None
        window = timedelta(minutes=config.travel_minutes)
        at = posting.attributes.get("occurred_at", posting.now)
        other = await session.scalar(
            text(
                "SELECT s.city FROM purchases p JOIN stores s ON s.id = p.store_id"
                " WHERE p.member_id = :member AND p.id <> :purchase AND s.city IS NOT NULL"
                " AND s.city <> :city AND p.status <> 'REJECTED'"
                " AND p.occurred_at > :earliest AND p.occurred_at < :latest"
                " LIMIT 1"
            ),
            {
                "member": _member(posting),
                "purchase": posting.attributes.get("purchase_id", 0),
                "city": city,
                "earliest": at - window,
                "latest": at + window,
            },
        )
        if other is not None:
            return _held(
                "IMPOSSIBLE_TRAVEL",
                f"purchases in {other} and {city} less than {config.travel_minutes} min apart",
            )
        return None

    async def new_identity_redeem(session: AsyncSession, posting: Posting) -> CheckResult | None:
        points = -sum(e.amount for e in posting.entries if e.amount < 0)
        if points <= config.new_identity_redeem_points:
            return None
        linked = await session.scalar(
            text(
                "SELECT max(linked_at) FROM member_identities"
                " WHERE member_id = :member AND linked_at > :since"
            ),
            {
                "member": _member(posting),
                "since": posting.now - timedelta(hours=config.new_identity_hours),
            },
        )
        if linked is not None:
            return _held(
                "NEW_IDENTITY_REDEEM",
                f"{points} points redeemed within {config.new_identity_hours} h of a new identity",
            )
        return None

    registry.register("VELOCITY_MEMBER_DAY", velocity, operations=[PURCHASE])
    registry.register("LARGE_AMOUNT", large_amount, operations=[PURCHASE])
    registry.register("STAFF_SELF_DEALING", staff_self_dealing, operations=[PURCHASE])
    registry.register("IMPOSSIBLE_TRAVEL", impossible_travel, operations=[PURCHASE])
    registry.register("NEW_IDENTITY_REDEEM", new_identity_redeem, operations=[REDEEM])

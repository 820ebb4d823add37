"""The anti-fraud rules that read purchase history: velocity, large amount, a cashier's own
purchase, impossible travel.

Each rule is written once, set-based over a batch of postings: one query reads the history
of every posting's member, then the postings are folded in order, each seeing the earlier
ones, so a batch is judged exactly as its purchases one after another. A single purchase is
a batch of one. They are registered in the ledger's check registry (``ledger.checks``) for
the ``purchase`` operation; the ledger itself never reads the purchase tables.

The rules read the purchase facts the recording service passes as attributes (see
``sync.purchases.rows.fraud_facts``) and are called before the purchase's points are
stored: a purchase being recorded has no points yet, so it never counts against itself.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from ledger.checks import CheckRegistry, CheckResult, FraudOutcome, Posting, checks
from ledger.fraud import PURCHASE
from ledger.model import business_day


@dataclass(frozen=True)
class PurchaseFraudConfig:
    max_purchases_per_day: int = 10
    max_points_per_day: int = 5_000
    large_amount: Decimal = Decimal("20000")
    travel_minutes: int = 30


BatchRule = Callable[[AsyncSession, Sequence[Posting]], Awaitable[list[CheckResult | None]]]


def _held(code: str, message: str) -> CheckResult:
    return CheckResult(FraudOutcome.HELD, code, message)


def _occurred(posting: Posting) -> datetime:
    return posting.attributes.get("occurred_at", posting.now)


def _earned(posting: Posting) -> int:
    return sum(e.amount for e in posting.entries if e.amount > 0)


def _member(posting: Posting) -> int:
    member_id = posting.attributes.get("member_id")
    return int(member_id) if member_id is not None else posting.entries[0].member_id


def _day(posting: Posting) -> date:
    day = posting.attributes.get("business_day")
    return day if day is not None else business_day(posting.now, posting.config.zone)


# The moments a business day can hold, in any zone (UTC-12 to UTC+14): a condition on
# ``occurred_at`` beside ``business_day = day`` lets the member's purchases-by-time index
# read a few days of them, not the member's whole history.
def _around_day(day: str, occurred_at: str) -> str:
    midnight = f"CAST({day} AS timestamp) AT TIME ZONE 'UTC'"
    return (
        f"{occurred_at} >= {midnight} - interval '1 day'"
        f" AND {occurred_at} < {midnight} + interval '2 days'"
    )


def _judged(posting: Posting, result: CheckResult | None) -> CheckResult | None:
    return result if posting.entries else None


def _one(rule: BatchRule) -> Callable[[AsyncSession, Posting], Awaitable[CheckResult | None]]:
    """The rule for a single posting: a batch of one."""

    async def check(session: AsyncSession, posting: Posting) -> CheckResult | None:
        return (await rule(session, [posting]))[0]

    return check


def register_purchase_fraud_checks(
    config: PurchaseFraudConfig, registry: CheckRegistry = checks
) -> None:
    """Register (or re-register with new thresholds) the purchase rules."""

    def _velocity(purchases: int, points: int, earned: int) -> CheckResult | None:
        if purchases + 1 > config.max_purchases_per_day:
            return _held("VELOCITY_MEMBER_DAY", f"{purchases + 1} earning purchases today")
        if points + earned > config.max_points_per_day:
            return _held("VELOCITY_MEMBER_DAY", f"{points + earned} points today")
        return None

    async def velocity(
        session: AsyncSession, postings: Sequence[Posting]
    ) -> list[CheckResult | None]:
        keys = sorted({(_member(p), _day(p)) for p in postings})
        rows = await session.execute(
            text(
                # LATERAL: one index probe per member, whatever the table's size.
                "SELECT k.member_id, k.day, c.purchases, c.points"
                " FROM unnest(CAST(:members AS bigint[]), CAST(:days AS date[]))"
                "  AS k(member_id, day) CROSS JOIN LATERAL ("
                "  SELECT count(*) AS purchases, coalesce(sum(p.points_earned), 0) AS points"
                "  FROM purchases p WHERE p.member_id = k.member_id AND p.business_day = k.day"
                f"  AND {_around_day('k.day', 'p.occurred_at')}"
                "  AND p.points_earned > 0 AND p.status <> 'REJECTED') AS c"
            ),
            {"members": [k[0] for k in keys], "days": [k[1] for k in keys]},
        )
        so_far = {(r.member_id, r.day): [r.purchases, r.points] for r in rows}
        answers: list[CheckResult | None] = []
        for posting in postings:
            counts = so_far[(_member(posting), _day(posting))]
            earned = _earned(posting)
            answers.append(_judged(posting, _velocity(counts[0], counts[1], earned)))
            if earned > 0:
                counts[0] += 1
                counts[1] += earned
        return answers

    def _large(posting: Posting) -> CheckResult | None:
        if "amount" not in posting.attributes:
            return None
        amount = Decimal(posting.attributes["amount"])
        if amount > config.large_amount:
            return _held("LARGE_AMOUNT", f"a purchase of {amount} yuan")
        return None

    async def large_amount(
        session: AsyncSession, postings: Sequence[Posting]
    ) -> list[CheckResult | None]:
        return [_judged(p, _large(p)) for p in postings]

    async def staff_self_dealing(
        session: AsyncSession, postings: Sequence[Posting]
    ) -> list[CheckResult | None]:
        operators = sorted(
            {p.attributes["operator_id"] for p in postings if p.attributes.get("operator_id")}
        )
        cashiers = {}
        if operators:
            rows = await session.execute(
                text(
                    "SELECT operator_id, member_id FROM staff WHERE operator_id = ANY(:operators)"
                ),
                {"operators": operators},
            )
            cashiers = {r.operator_id: r.member_id for r in rows}
        answers: list[CheckResult | None] = []
        for posting in postings:
            operator = posting.attributes.get("operator_id")
            found = None
            if operator and cashiers.get(operator) == _member(posting):
                found = _held(
                    "STAFF_SELF_DEALING", f"cashier {operator} rang up their own purchase"
                )
            answers.append(_judged(posting, found))
        return answers

    def _travel(other: str | None, city: str) -> CheckResult | None:
        if other is None:
            return None
        return _held(
            "IMPOSSIBLE_TRAVEL",
            f"purchases in {other} and {city} less than {config.travel_minutes} min apart",
        )

    async def impossible_travel(
        session: AsyncSession, postings: Sequence[Posting]
    ) -> list[CheckResult | None]:
        window = timedelta(minutes=config.travel_minutes)
        judged = [(n, p) for n, p in enumerate(postings) if p.entries and p.attributes.get("city")]
        other_city: dict[int, str] = {}
        if judged:
            rows = await session.execute(
                text(
                    "SELECT k.n, o.city FROM unnest(CAST(:ns AS int[]),"
                    " CAST(:members AS bigint[]), CAST(:cities AS text[]),"
                    " CAST(:ats AS timestamptz[])) AS k(n, member_id, city, at)"
                    " CROSS JOIN LATERAL (SELECT s.city FROM purchases p"
                    "  JOIN stores s ON s.id = p.store_id"
                    "  WHERE p.member_id = k.member_id AND p.status <> 'REJECTED'"
                    "  AND p.occurred_at > k.at - CAST(:window AS interval)"
                    "  AND p.occurred_at < k.at + CAST(:window AS interval)"
                    "  AND s.city IS NOT NULL AND s.city <> k.city LIMIT 1) AS o"
                ),
                {
                    "ns": [n for n, _ in judged],
                    "members": [_member(p) for _, p in judged],
                    "cities": [p.attributes["city"] for _, p in judged],
                    "ats": [_occurred(p) for _, p in judged],
                    "window": window,
                },
            )
            other_city = {r.n: r.city for r in rows}
        answers: list[CheckResult | None] = []
        # Each member's earlier purchases in the batch: (city, time).
        earlier: dict[int, list[tuple[str, datetime]]] = {}
        for n, posting in enumerate(postings):
            city, at = posting.attributes.get("city"), _occurred(posting)
            seen = earlier.setdefault(_member(posting), [])
            other = other_city.get(n)
            if other is None and city:
                other = next((c for c, t in seen if c != city and abs(t - at) < window), None)
            answers.append(_travel(other, city) if posting.entries and city else None)
            if city:
                seen.append((city, at))
        return answers

    rules: dict[str, BatchRule] = {
        "VELOCITY_MEMBER_DAY": velocity,
        "LARGE_AMOUNT": large_amount,
        "STAFF_SELF_DEALING": staff_self_dealing,
        "IMPOSSIBLE_TRAVEL": impossible_travel,
    }
    for code, rule in rules.items():
        registry.register(code, _one(rule), operations=[PURCHASE], check_many=rule)

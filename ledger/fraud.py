"""The anti-fraud rules every earn and redeem passes, from any channel.

Each rule is a check in ``ledger.checks`` with a stable code; its thresholds come from the
settings through ``FraudConfig``. Checks run after the posting path has locked the member,
so each one's query sees every earlier posting of that member committed. They read the
purchase facts the ingest passes as attributes, and, for history, the purchases, stores,
staff and identity tables by SQL (the ledger still knows a member only by its ID).

DUPLICATE_RECEIPT is enforced before any posting, by the unique (store, receipt) of
purchases: see ``sync.ingest``.

Each purchase rule also has a batch form for an offline batch (see ``ledger.checks``),
called before the batch's purchases are stored: one query reads the history, then the
postings are folded in order, each seeing the earlier ones, so the batch is judged exactly
as its purchases one by one.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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


def _occurred(posting: Posting) -> datetime:
    return posting.attributes.get("occurred_at", posting.now)


def _earned(posting: Posting) -> int:
    return sum(e.amount for e in posting.entries if e.amount > 0)


def _member(posting: Posting) -> int:
    member_id = posting.attributes.get("member_id")
    return int(member_id) if member_id is not None else posting.entries[0].member_id


# The moments a business day can hold, in any zone (UTC-12 to UTC+14): a condition on
# ``occurred_at`` beside ``business_day = day`` lets the member's purchases-by-time index
# read a few days of them, not the member's whole history.
def _around_day(day: str, occurred_at: str = "occurred_at") -> str:
    midnight = f"CAST({day} AS timestamp) AT TIME ZONE 'UTC'"
    return (
        f"{occurred_at} >= {midnight} - interval '1 day'"
        f" AND {occurred_at} < {midnight} + interval '2 days'"
    )


def _day(posting: Posting) -> date:
    day = posting.attributes.get("business_day")
    return day if day is not None else business_day(posting.now, posting.config.zone)


def _judged(posting: Posting, result: CheckResult | None) -> CheckResult | None:
    return result if posting.entries else None


#: The earliest identity change of a member within the window (a link, a merge into it, an
#: unmerge of it) and the points it redeemed since, held redemptions included (they are
#: debited as asked).
_NEW_IDENTITY_REDEEMED = text(
    "WITH changed AS (SELECT min(at) AS at FROM ("
    "  SELECT linked_at AS at FROM member_identities"
    "   WHERE member_id = :member AND linked_at > :since"
    "  UNION ALL SELECT created_at FROM member_merges"
    "   WHERE survivor_id = :member AND created_at > :since"
    "  UNION ALL SELECT undone_at FROM member_merges"
    "   WHERE (survivor_id = :member OR merged_id = :member) AND undone_at > :since) c)"
    " SELECT changed.at AS changed_at, coalesce((SELECT -sum(e.amount) FROM ledger_entries e"
    "  WHERE e.member_id = :member AND e.kind = 'REDEEM' AND e.amount < 0"
    "  AND e.created_at >= changed.at), 0) AS redeemed FROM changed"
)


def register_fraud_checks(config: FraudConfig, registry: CheckRegistry = checks) -> None:
    """Register (or re-register with new thresholds) every rule."""

    async def velocity(session: AsyncSession, posting: Posting) -> CheckResult | None:
        row = (
            await session.execute(
                text(
                    "SELECT count(*) AS purchases, coalesce(sum(points_earned), 0) AS points"
                    " FROM purchases WHERE member_id = :member AND business_day = :day"
                    f" AND {_around_day(':day')}"
                    " AND id <> :purchase AND points_earned > 0 AND status <> 'REJECTED'"
                ),
                {
                    "member": _member(posting),
                    "day": _day(posting),
                    "purchase": posting.attributes.get("purchase_id", 0),
                },
            )
        ).one()
        return _velocity(row.purchases, row.points, _earned(posting))

    def _velocity(purchases: int, points: int, earned: int) -> CheckResult | None:
        if purchases + 1 > config.max_purchases_per_day:
            return _held("VELOCITY_MEMBER_DAY", f"{purchases + 1} earning purchases today")
        if points + earned > config.max_points_per_day:
            return _held("VELOCITY_MEMBER_DAY", f"{points + earned} points today")
        return None

    async def velocity_many(
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
            {
                "members": [k[0] for k in keys],
                "days": [k[1] for k in keys],
            },
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

    async def large_amount(session: AsyncSession, posting: Posting) -> CheckResult | None:
        if "amount" not in posting.attributes:
            return None
        amount = Decimal(posting.attributes["amount"])
        if amount > config.large_amount:
            return _held("LARGE_AMOUNT", f"a purchase of {amount} yuan")
        return None

    async def large_amount_many(
        session: AsyncSession, postings: Sequence[Posting]
    ) -> list[CheckResult | None]:
        return [_judged(p, await large_amount(session, p)) for p in postings]

    async def staff_self_dealing(session: AsyncSession, posting: Posting) -> CheckResult | None:
        operator = posting.attributes.get("operator_id")
        if not operator:
            return None
        cashier = await session.scalar(
            text("SELECT member_id FROM staff WHERE operator_id = :operator"),
            {"operator": operator},
        )
        return _self_dealing(operator, cashier, posting)

    def _self_dealing(operator: str, cashier: int | None, posting: Posting) -> CheckResult | None:
        if cashier == _member(posting):
            return _held("STAFF_SELF_DEALING", f"cashier {operator} rang up their own purchase")
        return None

    async def staff_self_dealing_many(
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
            found = _self_dealing(operator, cashiers.get(operator), posting) if operator else None
            answers.append(_judged(posting, found))
        return answers

    async def impossible_travel(session: AsyncSession, posting: Posting) -> CheckResult | None:
        city = posting.attributes.get("city")
        if not city:
            return None
        window = timedelta(minutes=config.travel_minutes)
        at = _occurred(posting)
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
        return _travel(other, city)

    def _travel(other: str | None, city: str) -> CheckResult | None:
        if other is None:
            return None
        return _held(
            "IMPOSSIBLE_TRAVEL",
            f"purchases in {other} and {city} less than {config.travel_minutes} min apart",
        )

    async def impossible_travel_many(
        session: AsyncSession, postings: Sequence[Posting]
    ) -> list[CheckResult | None]:
        window = timedelta(minutes=config.travel_minutes)
        judged = [(n, p) for n, p in enumerate(postings) if p.entries and p.attributes.get("city")]
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
        other_city: dict[int, str] = {r.n: r.city for r in rows}
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

    async def new_identity_redeem(session: AsyncSession, posting: Posting) -> CheckResult | None:
        points = -sum(e.amount for e in posting.entries if e.amount < 0)
        if points <= 0:
            return None
        # Judged over everything redeemed since the earliest identity change in the window,
        # so that splitting a redemption below the threshold gains nothing. A merge into the
        # member and an unmerge of it change its identities as much as a link does.
        row = (
            await session.execute(
                _NEW_IDENTITY_REDEEMED,
                {
                    "member": _member(posting),
                    "since": posting.now - timedelta(hours=config.new_identity_hours),
                },
            )
        ).one()
        if row.changed_at is None:
            return None
        total = row.redeemed + points
        if total > config.new_identity_redeem_points:
            return _held(
                "NEW_IDENTITY_REDEEM",
                f"{total} points redeemed within {config.new_identity_hours} h of an identity "
                "change (a new identity or a merge)",
            )
        return None

    purchases = [PURCHASE]
    registry.register(
        "VELOCITY_MEMBER_DAY", velocity, operations=purchases, check_many=velocity_many
    )
    registry.register(
        "LARGE_AMOUNT", large_amount, operations=purchases, check_many=large_amount_many
    )
    registry.register(
        "STAFF_SELF_DEALING",
        staff_self_dealing,
        operations=purchases,
        check_many=staff_self_dealing_many,
    )
    registry.register(
        "IMPOSSIBLE_TRAVEL",
        impossible_travel,
        operations=purchases,
        check_many=impossible_travel_many,
    )
    registry.register("NEW_IDENTITY_REDEEM", new_identity_redeem, operations=[REDEEM])

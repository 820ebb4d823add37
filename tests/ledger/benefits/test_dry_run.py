"""dryRunRuleChange over HTTP: the report equals ``price_purchase`` over the same purchases
read back, and nothing is written."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import text

from hub.today_rules import today_rules
from ledger.promotion_rules import PromotionKind, PromotionRule, RuleSet, TierRule
from tests.ledger.benefits.benefits_graphql import global_id
from tests.ledger.benefits.dry_run_reference import expected_dry_run

ZONE = ZoneInfo("Asia/Shanghai")
SINCE = datetime(2026, 10, 1, tzinfo=ZONE)
UNTIL = datetime(2026, 12, 1, tzinfo=ZONE)
PERIOD = {"from": "2026-10-01", "to": "2026-11-30"}

DRY_RUN = """
query DryRun($change: RuleChangeInput!, $from: Date!, $to: Date!) {
  dryRunRuleChange(change: $change, from: $from, to: $to) {
    from to purchasesReplayed membersWithPurchases pointsNow pointsProposed pointsDelta
    liabilityDelta membersAffected durationMs
    tierMoves { fromTier toTier members }
    deltaByTier { key count }
  }
}
"""

DASHBOARD = """
query Dashboard($from: Date!, $to: Date!) { dashboard(from: $from, to: $to) { members } }
"""

LADDER = [
    {"code": "REGULAR", "name": "Regular", "threshold": "0", "multiplier": "1"},
    {"code": "SILVER", "name": "Silver", "threshold": "500", "multiplier": "1.3"},
    {"code": "GOLD", "name": "Gold", "threshold": "2000", "multiplier": "1.6"},
]
STARTS = "2026-09-01T00:00:00+08:00"


def promotions(segment: int) -> list[dict]:
    def promo(name: str, kind: str, value: str, **conditions: object) -> dict:
        return {"name": name, "kind": kind, "value": value, "startsAt": STARTS, **conditions}

    return [
        promo("member day", "MULTIPLIER", "2", daysOfMonth=[8, 18]),
        promo("birthday", "MULTIPLIER", "1.5", birthdayWindowDays=3, stackable=True),
        promo("tea", "MULTIPLIER", "3", categories=["tea"]),
        promo("second", "MULTIPLIER", "1.5", nthPurchase=2, stackable=True),
        promo(
            "gold app",
            "BONUS_POINTS",
            "50",
            tierCodes=["GOLD"],
            channels=["MINI_PROGRAM"],
            stackable=True,
        ),
        promo("regulars", "BONUS_POINTS", "20", segmentId=global_id("Segment", segment)),
        promo(
            "weekend",
            "MULTIPLIER",
            "1.25",
            daysOfWeek=[6, 7],
            storeIds=["S002"],
            stackable=True,
            endsAt="2026-11-25T00:00:00+08:00",
        ),
    ]


def as_rule(index: int, given: dict, segment: int) -> PromotionRule:
    return PromotionRule(
        id=f"proposed-{index + 1}",
        name=given["name"],
        kind=PromotionKind(given["kind"]),
        value=Decimal(given["value"]),
        starts_at=datetime.fromisoformat(given["startsAt"]),
        ends_at=datetime.fromisoformat(given["endsAt"]) if "endsAt" in given else None,
        days_of_month=tuple(given.get("daysOfMonth", ())),
        days_of_week=tuple(given.get("daysOfWeek", ())),
        birthday_window_days=given.get("birthdayWindowDays"),
        tier_codes=tuple(given.get("tierCodes", ())),
        segment_id=str(segment) if "segmentId" in given else None,
        categories=tuple(given.get("categories", ())),
        channels=tuple(given.get("channels", ())),
        store_ids=tuple(given.get("storeIds", ())),
        nth_purchase=given.get("nthPurchase"),
        stackable=bool(given.get("stackable", False)),
    )


@pytest.fixture
def shop(members, segment, run_in_transaction):  # type: ignore[no-untyped-def]
    """Six members with birthdays, tier histories and purchases before, in and after the
    period, with item lines; one segment of two of them. Answers the segment's ID."""

    async def make() -> int:
        ids = await members(7)
        rng = random.Random(25)
        birthdays = [
            date(1990, 10, 9),
            date(1988, 2, 29),
            date(1995, 11, 20),
            None,
            date(2000, 12, 1),
            date(1979, 10, 2),
            date(1992, 10, 20),
        ]
        purchases: list[dict] = []
        for n in range(240):
            member = ids[rng.randrange(6)]
            at = SINCE + timedelta(minutes=rng.randrange(-400 * 24 * 60, 75 * 24 * 60))
            amount = Decimal(rng.randrange(0, 90_000)) / 100
            status = rng.choice(["COMPLETED"] * 8 + ["REFUNDED", "PARTIALLY_REFUNDED", "REJECTED"])
            refunded = {"REFUNDED": amount, "PARTIALLY_REFUNDED": amount / 2}.get(status, 0)
            purchases.append(
                {
                    "member": None if n % 23 == 0 else member,
                    "receipt": f"R{n}",
                    "store": rng.choice(["S001", "S002"]),
                    "channel": rng.choice(["POS", "MINI_PROGRAM"]),
                    "amount": amount,
                    "refunded": Decimal(refunded).quantize(Decimal("0.01")),
                    "at": at,
                    "status": status,
                    "lines": [
                        (rng.choice(["tea", "snacks", None]), rng.randrange(1, 3))
                        for _ in range(rng.randrange(0, 3))
                    ],
                }
            )
        # A new member's first purchases in the period: the second near the birthday.
        for n, day in enumerate((5, 19, 28)):
            purchases.append(
                {
                    "member": ids[6],
                    "receipt": f"N{n}",
                    "store": "S001",
                    "channel": "POS",
                    "amount": Decimal("188.80"),
                    "refunded": Decimal(0),
                    "at": datetime(2026, 10, day, 15, tzinfo=ZONE),
                    "status": "COMPLETED",
                    "lines": [],
                }
            )

        async def write(session) -> None:  # type: ignore[no-untyped-def]
            await session.execute(
                text(
                    "INSERT INTO stores (id, time_zone, created_at) VALUES"
                    " ('S001', 'Asia/Shanghai', now()), ('S002', 'Asia/Shanghai', now())"
                    " ON CONFLICT DO NOTHING"
                )
            )
            for member, birthday in zip(ids, birthdays, strict=True):
                await session.execute(
                    text("UPDATE members SET birthday = :b WHERE id = :m"),
                    {"b": birthday, "m": member},
                )
            await session.execute(
                text(
                    "INSERT INTO member_tiers (member_id, tier_code, since, until, reason) VALUES"
                    " (:a, 'GOLD', :t0, NULL, 'UPGRADE'), (:b, 'SILVER', :t0, :t1, 'UPGRADE'),"
                    " (:b, 'GOLD', :t1, NULL, 'UPGRADE'), (:c, 'SILVER', :t0, :t2, 'UPGRADE'),"
                    " (:c, 'REGULAR', :t2, NULL, 'REVIEW')"
                ),
                {
                    "a": ids[0],
                    "b": ids[1],
                    "c": ids[2],
                    "t0": SINCE - timedelta(days=200),
                    "t1": SINCE + timedelta(days=14),
                    "t2": SINCE + timedelta(days=30),
                },
            )
            for p in purchases:
                purchase = await session.scalar(
                    text(
                        "INSERT INTO purchases (member_id, store_id, receipt_no, channel, amount,"
                        " refunded_amount, occurred_at, recorded_at, status, has_promotion,"
                        " content_hash, rule_version, business_day, points_earned)"
                        " VALUES (:member, :store, :receipt, :channel, :amount, :refunded, :at,"
                        " :at, :status, false, '\\x00', 'test', :day, 0)"
                        " RETURNING id"
                    ),
                    {**{k: v for k, v in p.items() if k != "lines"}, "day": p["at"].date()},
                )
                for line_no, (category, quantity) in enumerate(p["lines"], start=1):
                    await session.execute(
                        text(
                            "INSERT INTO purchase_items (purchase_id, line_no, member_id, sku,"
                            " category, quantity, unit_price)"
                            " VALUES (:p, :n, :m, :sku, :category, :q, :price)"
                        ),
                        {
                            "p": purchase,
                            "n": line_no,
                            "m": p["member"],
                            "sku": f"SKU-{line_no}",
                            "category": category,
                            "q": quantity,
                            "price": (p["amount"] / 3).quantize(Decimal("0.01")),
                        },
                    )

        await run_in_transaction(write)
        return await segment("regulars", ids[:2])

    return make


async def ledger_state(run_in_transaction) -> tuple:  # type: ignore[no-untyped-def]
    """What a write would change: the ledger, the purchases, the tier history."""
    result = await run_in_transaction(
        lambda s: s.execute(
            text(
                "SELECT (SELECT count(*) FROM ledger_entries) AS entries,"
                " (SELECT md5(coalesce(string_agg(p::text, ',' ORDER BY id), ''))"
                "  FROM purchases p) AS purchases,"
                " (SELECT count(*) FROM member_tiers) AS tiers"
            )
        )
    )
    return tuple(result.one())


@pytest.fixture
def settings(settings, request):  # type: ignore[no-untyped-def]
    """The suite's settings, with the dry run split over ``request.param`` connections when a
    test names it."""
    parts = getattr(request, "param", None)
    return settings if parts is None else settings.model_copy(update={"dry_run_parallel": parts})


# One connection, and the members split three ways: the parts' sums are the whole's.
@pytest.mark.parametrize("settings", [1, 3], indirect=True, ids=["one part", "three parts"])
@pytest.mark.parametrize("new_ladder", [True, False])
async def test_the_dry_run_equals_price_purchase_over_the_purchases_read_back(
    live_client, shop, settings, session_factory, run_in_transaction, new_ladder
):
    admin = await live_client("admin")
    segment = await shop()
    added = promotions(segment)
    change: dict = {"pointsPer100Yuan": 12, "addPromotions": added}
    if new_ladder:
        change["tiers"] = LADDER
    before = await ledger_state(run_in_transaction)

    report = (await admin.data(DRY_RUN, change=change, **PERIOD))["dryRunRuleChange"]

    async with session_factory() as session:
        # The rules as stored now, the promotions still running at the period's start.
        since = datetime.fromisoformat(PERIOD["from"]).replace(tzinfo=UTC)
        now = await today_rules(session, settings, since=since)
        proposed = RuleSet(
            points_per_100=12,
            tiers=(
                tuple(
                    TierRule(
                        t["code"], t["name"], Decimal(t["threshold"]), Decimal(t["multiplier"])
                    )
                    for t in LADDER
                )
                if new_ladder
                else now.tiers
            ),
            promotions=tuple(as_rule(i, p, segment) for i, p in enumerate(added)),
        )
        expected = await expected_dry_run(
            session,
            now,
            proposed,
            new_ladder=new_ladder,
            since=SINCE,
            until=UNTIL,
            zone=ZONE,
            window_months=settings.tier_window_months,
        )
    delta = expected.points_proposed - expected.points_now
    assert expected.purchases > 20 and expected.members_affected > 0
    # Every promotion of the proposal gave points to some purchase: each condition is held
    # to the rules, not only the base rate.
    assert {f"PROMOTION:{p['name']}" for p in added} <= expected.causes
    assert {k: v for k, v in report.items() if k != "durationMs"} == {
        "from": PERIOD["from"],
        "to": PERIOD["to"],
        "purchasesReplayed": expected.purchases,
        "membersWithPurchases": expected.members,
        "pointsNow": expected.points_now,
        "pointsProposed": expected.points_proposed,
        "pointsDelta": delta,
        "liabilityDelta": str((Decimal(delta) * Decimal("0.01")).quantize(Decimal("0.01"))),
        "membersAffected": expected.members_affected,
        "tierMoves": expected.tier_moves,
        "deltaByTier": expected.delta_by_tier,
    }
    assert (report["tierMoves"] != []) is new_ladder
    assert await ledger_state(run_in_transaction) == before


async def test_no_change_changes_nothing(live_client, shop):
    admin = await live_client("admin")
    await shop()
    report = (await admin.data(DRY_RUN, change={}, **PERIOD))["dryRunRuleChange"]
    assert report["pointsDelta"] == 0 and report["membersAffected"] == 0
    assert report["pointsNow"] > 0 and report["tierMoves"] == []


@pytest.mark.parametrize(
    ("change", "period"),
    [
        ({}, {"from": "0001-01-01", "to": "2026-11-30"}),
        ({}, {"from": "2026-10-01", "to": "9999-12-31"}),
        ({}, {"from": "2026-11-30", "to": "2026-10-01"}),
        ({"pointsPer100Yuan": -1}, PERIOD),
        ({"pointsPer100Yuan": 2_000_000_000}, PERIOD),
        ({"tiers": []}, PERIOD),
        ({"tiers": [{**LADDER[1], "threshold": "NaN"}]}, PERIOD),
        ({"tiers": [LADDER[1]]}, PERIOD),
        ({"removePromotionIds": [global_id("Promotion", 1)]}, PERIOD),
        ({"removePromotionIds": ["not an id"]}, PERIOD),
        (
            {
                "addPromotions": [
                    {"name": "x\u0000", "kind": "MULTIPLIER", "value": "2", "startsAt": STARTS}
                ]
            },
            PERIOD,
        ),
        (
            {
                "addPromotions": [
                    {"name": "x", "kind": "MULTIPLIER", "value": "1e309", "startsAt": STARTS}
                ]
            },
            PERIOD,
        ),
        (
            {
                "addPromotions": [
                    {
                        "name": "x",
                        "kind": "MULTIPLIER",
                        "value": "2",
                        "startsAt": STARTS,
                        "daysOfMonth": [32],
                    }
                ]
            },
            PERIOD,
        ),
        (
            {
                "addPromotions": [
                    {
                        "name": "x",
                        "kind": "BONUS_POINTS",
                        "value": "5",
                        "startsAt": STARTS,
                        "segmentId": global_id("Segment", 999),
                    }
                ]
            },
            PERIOD,
        ),
    ],
)
async def test_edge_inputs_are_invalid_input(live_client, change, period):
    admin = await live_client("admin")
    body = await admin.execute(DRY_RUN, change=change, **period)
    assert body["data"] is None
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_INPUT"]


@pytest.mark.parametrize(
    "period",
    [
        {"from": "0001-01-01", "to": "2026-11-30"},
        {"from": "2026-10-01", "to": "9999-12-31"},
        {"from": "0001-01-01", "to": "0001-01-01"},
    ],
)
async def test_the_dashboard_refuses_days_no_programme_has(live_client, period):
    admin = await live_client("admin")
    body = await admin.execute(DASHBOARD, **period)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_INPUT"]


async def test_only_an_operator_runs_a_dry_run(live_client):
    till = await live_client("pos", store="S001")
    body = await till.execute(DRY_RUN, change={}, **PERIOD)
    assert [e["extensions"]["code"] for e in body["errors"]] == ["FORBIDDEN"]

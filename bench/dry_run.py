"""The dry run of a rule change over a year of purchases.

    python -m bench.dry_run [--members 1000000] [--purchases 10000000]

Loads ``bench.intelligence``'s data with every purchase in the last year (set-based SQL),
adds birthdays, a tier history for a fifth of the members and a segment of a tenth, then
times ``dryRunRuleChange``'s statements (``MEMBERHUB_DRY_RUN_PARALLEL`` parts of the
members at once, 2 by default) in a READ ONLY transaction for: a new base rate;
seven promotions added (member day, birthday, a category, the second purchase, a tier's
bonus on the app, a segment's bonus, a store's weekend); and all of it with a new tier
ladder (tiers then follow each member's spend).
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench.harness import database_url, fresh_database
from bench.intelligence import LOAD
from hub.db.engine import create_engine, create_session_factory
from hub.settings import Settings
from hub.today_rules import today_rules
from hub.wiring import build_event_bus
from ledger.promotion_rules import PromotionKind, PromotionRule, RuleSet, TierRule
from sync.dry_run import Proposal, dry_run

DATABASE = "memberhub_bench_dry_run"
ZONE = ZoneInfo("Asia/Shanghai")

#: The intelligence data, its purchases in one year instead of two.
YEAR_LOAD = [s.replace("interval '730 days'", "interval '365 days'") for s in LOAD]
assert YEAR_LOAD != LOAD

EXTRA = [
    "UPDATE members SET birthday = DATE '1970-01-01' + (id * 7919 % 15000)::int",
    "INSERT INTO member_tiers (member_id, tier_code, since, reason)"
    " SELECT id, (ARRAY['SILVER','GOLD','DIAMOND'])[1 + id % 3],"
    " CAST(:now AS timestamptz) - (id % 300) * interval '1 day', 'UPGRADE'"
    " FROM members WHERE id % 5 = 0",
    "INSERT INTO segments (name, kind, rule, created_at) VALUES ('regulars', 'MANUAL', '{}', :now)",
    "INSERT INTO segment_members (segment_id, member_id, since)"
    " SELECT (SELECT id FROM segments WHERE name = 'regulars'), id, :now FROM members"
    " WHERE id % 10 = 3",
    "ANALYZE",
]


def promotions(start: datetime, segment: int) -> tuple[PromotionRule, ...]:
    def rule(n: int, name: str, kind: PromotionKind, value: str, **kw: object) -> PromotionRule:
        return PromotionRule(
            id=f"p{n}", name=name, kind=kind, value=Decimal(value), starts_at=start, **kw
        )  # type: ignore[arg-type]

    multiplier, bonus = PromotionKind.MULTIPLIER, PromotionKind.BONUS_POINTS
    return (
        rule(1, "member day", multiplier, "2", days_of_month=(8, 18, 28)),
        rule(2, "birthday", multiplier, "1.5", birthday_window_days=3, stackable=True),
        rule(3, "tea", multiplier, "3", categories=("tea",)),
        rule(4, "second", multiplier, "1.5", nth_purchase=2, stackable=True),
        rule(
            5,
            "gold app",
            bonus,
            "50",
            tier_codes=("GOLD",),
            channels=("MINI_PROGRAM",),
            stackable=True,
        ),
        rule(6, "regulars", bonus, "20", segment_id=str(segment)),
        rule(
            7, "weekend", multiplier, "1.25", days_of_week=(6, 7), store_ids=("S2",), stackable=True
        ),
    )


LADDER = (
    TierRule("REGULAR", "Regular", Decimal(0), Decimal(1)),
    TierRule("SILVER", "Silver", Decimal(800), Decimal("1.25")),
    TierRule("GOLD", "Gold", Decimal(4000), Decimal("1.5")),
    TierRule("DIAMOND", "Diamond", Decimal(15000), Decimal(2)),
)


async def run(members: int, purchases: int, reuse: bool) -> None:
    url = database_url(DATABASE) if reuse else await fresh_database(DATABASE)
    settings = Settings()
    engine = create_engine(url, pool_size=settings.dry_run_parallel, max_overflow=0)
    sessions = create_session_factory(engine, build_event_bus())
    now = datetime.now(UTC)
    try:
        if not reuse:
            started = time.perf_counter()
            async with engine.connect() as conn:
                await conn.execution_options(isolation_level="AUTOCOMMIT")
                for statement in YEAR_LOAD + EXTRA:
                    await conn.execute(
                        text(statement), {"now": now, "members": members, "purchases": purchases}
                    )
            print(
                f"loaded {members:,} members, {purchases:,} purchases in a year and their items"
                f" in {time.perf_counter() - started:.0f} s"
            )
        today = now.astimezone(ZONE).date()
        first = today - timedelta(days=364)
        since = datetime.combine(first, datetime.min.time(), tzinfo=ZONE)
        until = datetime.combine(today + timedelta(days=1), datetime.min.time(), tzinfo=ZONE)
        async with sessions.begin() as session:
            segment = int(await session.scalar(text("SELECT id FROM segments")))
            current = await today_rules(session, settings, since=since)
        added = promotions(since - timedelta(days=30), segment)
        cases = [
            ("base rate 10 -> 12", RuleSet(12, current.tiers, current.promotions), False),
            ("seven promotions added", RuleSet(10, current.tiers, added), False),
            ("rate, promotions and a new ladder", RuleSet(12, LADDER, added), True),
        ]
        for label, proposed, new_ladder in cases:
            async with sessions.begin() as session:
                await session.execute(
                    text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ READ ONLY")
                )
                clock = time.perf_counter()
                helpers = [sessions() for _ in range(settings.dry_run_parallel - 1)]
                found = await dry_run(
                    session,
                    current,
                    Proposal(proposed, new_ladder=new_ladder),
                    since=since,
                    until=until,
                    zone="Asia/Shanghai",
                    window_months=settings.tier_window_months,
                    helpers=helpers,
                )
                for helper in helpers:
                    await helper.close()
            print(
                f"{label:36} {time.perf_counter() - clock:7.1f} s   {found.purchases:,} purchases,"
                f" {found.members:,} members, delta {found.points_delta:,}"
                f" ({found.liability(settings.point_value_yuan)} yuan),"
                f" {found.members_affected:,} affected,"
                f" {sum(m[2] for m in found.tier_moves):,} tier moves"
            )
    finally:
        await engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=10_000_000)
    parser.add_argument(
        "--reuse", action="store_true", help="time the dry runs on the data loaded before"
    )
    args = parser.parse_args()
    asyncio.run(run(args.members, args.purchases, args.reuse))


if __name__ == "__main__":
    main()

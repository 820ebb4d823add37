"""Intelligence at scale: RFM, lifecycle, a rule segment, a tag and the dashboard.

    python -m bench.intelligence [--members 1000000] [--purchases 10000000]

Loads a scratch database with set-based SQL (no Python loop over rows): members enrolled
over three years on every channel; purchases spread by a power law (many occasional
buyers, few heavy ones: the purchase's member is ``members * u^3`` for uniform ``u``)
over two years, in eight stores, log-normal amounts around 150 yuan, one item line each
in five categories, a few refunds and promotions. Then times, in one transaction each,
what the nightly job and the dashboard run.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from bench.harness import fresh_database, timed
from hub.db.engine import create_engine, create_session_factory
from hub.settings import Settings
from hub.wiring import build_event_bus, intelligence_programme
from sync.intelligence.builtin_tags import ensure_builtins
from sync.intelligence.dashboard import build_dashboard
from sync.intelligence.memberships import refresh_builtin_tag, refresh_segment
from sync.intelligence.scores import refresh_lifecycle, refresh_rfm

DATABASE = "memberhub_bench_intelligence"

LOAD = [
    "INSERT INTO stores (id, city, created_at) SELECT 'S' || n,"
    " (ARRAY['Shanghai','Beijing','Hangzhou','Shenzhen','Chengdu','Wuhan','Online','Online'])[n],"
    " now() FROM generate_series(1, 8) n",
    "INSERT INTO members (registered_channel, created_at, updated_at)"
    " SELECT (ARRAY['MINI_PROGRAM','MINI_PROGRAM','POS','POS','WEB'])[1 + floor(random() * 5)],"
    " CAST(:now AS timestamptz) - random() * interval '1095 days', :now"
    " FROM generate_series(1, :members)",
    "INSERT INTO purchases (member_id, store_id, receipt_no, channel, amount, refunded_amount,"
    " occurred_at, recorded_at, status, has_promotion, content_hash, rule_version,"
    " business_day, points_earned)"
    " SELECT member_id, 'S' || (1 + n % 8), 'B' || n, CASE WHEN n % 8 >= 6 THEN"
    "  'MINI_PROGRAM' ELSE 'POS' END, amount,"
    "  CASE WHEN n % 50 = 0 THEN amount WHEN n % 50 = 1 THEN round(amount / 2, 2) ELSE 0 END,"
    "  at, at,"
    "  CASE WHEN n % 50 = 0 THEN 'REFUNDED' WHEN n % 50 = 1 THEN 'PARTIALLY_REFUNDED'"
    "   ELSE 'COMPLETED' END,"
    "  n % 7 = 0, '\\x00', 'bench', (at AT TIME ZONE 'Asia/Shanghai')::date,"
    "  floor(amount / 10)::int"
    " FROM (SELECT n, 1 + floor(:members * power(random(), 3))::bigint AS member_id,"
    "  round(exp(5 + 0.8 * sqrt(-2 * ln(1 - random())) * cos(2 * pi() * random()))::numeric,"
    "   2) AS amount, CAST(:now AS timestamptz) - random() * interval '730 days' AS at"
    "  FROM generate_series(1, :purchases) n) p",
    "INSERT INTO purchase_items (purchase_id, line_no, member_id, sku, category, quantity,"
    " unit_price) SELECT id, 1, member_id, 'SKU-' || (id % 500),"
    " (ARRAY['tea','snacks','beauty','apparel','home'])[1 + (id * 7919) % 5], 1, amount"
    " FROM purchases",
    "ANALYZE",
]

SEGMENT_RULE = {
    "all": [
        {"condition": {"field": "TOTAL_SPEND", "op": "GTE", "values": ["1000"], "withinDays": 365}},
        {"condition": {"field": "DAYS_SINCE_LAST_PURCHASE", "op": "LT", "values": ["90"]}},
        {"not": {"condition": {"field": "LIFECYCLE", "op": "EQ", "values": ["CHURNED"]}}},
    ]
}


async def run(members: int, purchases: int) -> None:
    url = await fresh_database(DATABASE)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    sessions = create_session_factory(engine, build_event_bus())
    now = datetime.now(UTC)
    programme = intelligence_programme(Settings())
    try:
        started = time.perf_counter()
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in LOAD:
                await conn.execute(
                    text(statement), {"now": now, "members": members, "purchases": purchases}
                )
        print(
            f"loaded {members:,} members, {purchases:,} purchases and items in "
            f"{time.perf_counter() - started:.0f} s"
        )
        async with sessions.begin() as session:
            await ensure_builtins(session, now=now)
            segment = await session.scalar(
                text(
                    "INSERT INTO segments (name, kind, rule, created_at)"
                    " VALUES ('bench', 'RULE', '{}', :now) RETURNING id"
                ),
                {"now": now},
            )
        await timed(
            sessions,
            "RFM refresh (members scored)",
            lambda s: refresh_rfm(s, now=now, config=programme.config),
        )
        await timed(
            sessions,
            "lifecycle refresh (members staged)",
            lambda s: refresh_lifecycle(s, now=now, config=programme.config),
        )
        await timed(
            sessions,
            "rule segment refresh (entered/exited)",
            lambda s: refresh_segment(
                s,
                segment_id=segment,
                name="bench",
                rule=SEGMENT_RULE,
                now=now,
                tiers=programme.tiers,
            ),
        )
        await timed(
            sessions,
            "tag refresh: weekend-shopper (changes)",
            lambda s: refresh_builtin_tag(
                s, builtin="weekend-shopper", now=now, time_zone="Asia/Shanghai"
            ),
        )
        today = now.astimezone(ZoneInfo("Asia/Shanghai")).date()
        await timed(
            sessions,
            "dashboard for a year (members)",
            lambda s: _dashboard(s, today - timedelta(days=364), today),
        )
    finally:
        await engine.dispose()


async def _dashboard(session, start: date, end: date) -> int:  # type: ignore[no-untyped-def]
    found = await build_dashboard(
        session.execute,
        start=start,
        end=end,
        store_id=None,
        zone=ZoneInfo("Asia/Shanghai"),
        lowest_tier="REGULAR",
    )
    return found.members


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    parser.add_argument("--purchases", type=int, default=10_000_000)
    args = parser.parse_args()
    asyncio.run(run(args.members, args.purchases))


if __name__ == "__main__":
    main()

"""Issuing a coupon to a whole segment, in one statement.

    python -m bench.coupons [--members 1000000]

Loads a scratch database with members and a segment holding all of them (set-based SQL),
defines a template with stock and a per-member limit, then times in one transaction each:
the issue (one INSERT … SELECT of the coupons, their codes drawn in the database, and their
ISSUED events), its replay with the same key, ``memberhub coupons verify`` over every
coupon, and the expiry job once they have run out.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from bench.harness import fresh_database, timed
from hub.db.engine import create_engine, create_session_factory
from hub.wiring import build_event_bus
from ledger.benefits.issuing import issue_coupons
from ledger.benefits.lifecycle import expire_coupons
from ledger.benefits.model import CouponKind, TemplateSpec
from ledger.benefits.templates import define_template
from ledger.benefits.verify import verify_coupons

DATABASE = "memberhub_bench_coupons"

LOAD = [
    "INSERT INTO members (registered_channel, created_at, updated_at)"
    " SELECT 'MINI_PROGRAM', :now, :now FROM generate_series(1, :members)",
    "INSERT INTO segments (name, kind, rule, created_at) VALUES ('everyone', 'MANUAL', '{}', :now)",
    "INSERT INTO segment_members (segment_id, member_id, since)"
    " SELECT (SELECT id FROM segments WHERE name = 'everyone'), id, :now FROM members",
    "ANALYZE",
]

TEMPLATE = TemplateSpec(
    code="WINBACK-50",
    name="50 off 200 to win back",
    kind=CouponKind.CASH_OFF,
    value=Decimal("50"),
    min_spend=Decimal("200"),
    categories=(),
    channels=(),
    store_ids=(),
    valid_days=30,
    valid_from=None,
    valid_until=None,
    stock=10_000_000,
    per_member_limit=1,
    points_price=None,
)


async def run(members: int) -> None:
    url = await fresh_database(DATABASE)
    engine = create_engine(url, pool_size=1, max_overflow=0)
    sessions = create_session_factory(engine, build_event_bus())
    now = datetime.now(UTC)
    try:
        started = time.perf_counter()
        async with engine.connect() as conn:
            await conn.execution_options(isolation_level="AUTOCOMMIT")
            for statement in LOAD:
                await conn.execute(text(statement), {"now": now, "members": members})
        print(f"loaded {members:,} members in a segment in {time.perf_counter() - started:.0f} s")
        async with sessions.begin() as session:
            template = await define_template(session=session, spec=TEMPLATE, actor="bench", now=now)
            segment = await session.scalar(text("SELECT id FROM segments WHERE name = 'everyone'"))

        def issue(session):  # type: ignore[no-untyped-def]
            return issue_coupons(
                session=session,
                template_id=template.id,
                member_ids=None,
                segment_id=segment,
                reason="win back",
                key_scope="client:bench",
                key="winback",
                actor="bench",
                now=now,
            )

        await timed(sessions, "issue to the segment (issued, skipped)", _counts(issue))
        await timed(sessions, "replay with the same key", _counts(issue))
        await timed(
            sessions,
            "coupons verify",
            lambda s: _summary(verify_coupons(session=s)),
        )
        await timed(
            sessions,
            "expiry job after 31 days (expired)",
            lambda s: expire_coupons(session=s, now=now + timedelta(days=31)),
        )
    finally:
        await engine.dispose()


def _counts(issue):  # type: ignore[no-untyped-def]
    async def run(session) -> str:  # type: ignore[no-untyped-def]
        result = await issue(session)
        return f"{result.issued:,} issued, {result.skipped:,} skipped, replayed {result.replayed}"

    return run


async def _summary(report) -> str:  # type: ignore[no-untyped-def]
    return (await report).summary()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--members", type=int, default=1_000_000)
    args = parser.parse_args()
    asyncio.run(run(args.members))


if __name__ == "__main__":
    main()

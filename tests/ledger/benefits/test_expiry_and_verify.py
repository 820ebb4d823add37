"""Coupons expire by a scheduled job; the coupon ledger is append-only and verified."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from hub.scheduled_jobs import expire_coupons_job
from ledger.benefits.verify import verify_coupons
from tests.conftest import START
from tests.hub.cli.test_cli import memberhub
from tests.ledger.benefits.benefits_graphql import STATS, define, issue, wallet


async def test_the_expiry_job_records_expired_coupons_once(
    admin, members, run_in_transaction, count_rows, clock
):
    short = await define(admin, "DAY", validDays=1)
    long = await define(admin, "MONTH", validDays=30)
    ids = await members(3)
    await issue(admin, short["id"], "day", members=ids)
    await issue(admin, long["id"], "month", members=ids)
    later = START + timedelta(days=2)

    counts = await asyncio.gather(
        run_in_transaction(lambda s: expire_coupons_job(session=s, now=later)),
        run_in_transaction(lambda s: expire_coupons_job(session=s, now=later)),
    )
    again = await run_in_transaction(lambda s: expire_coupons_job(session=s, now=later))

    assert sorted(counts) == [0, 3] and again == 0
    assert await count_rows("SELECT count(*) FROM coupons WHERE status = 'EXPIRED'") == 3
    assert await count_rows("SELECT count(*) FROM coupon_events WHERE kind = 'EXPIRED'") == 3
    clock.set(later)
    statuses = [e["node"]["status"] for e in (await wallet(admin, ids[0]))["coupons"]["edges"]]
    assert statuses == ["ACTIVE", "EXPIRED"]
    stats = {t["code"]: t["stats"] for t in (await admin.data(STATS))["couponTemplates"]}
    assert stats["DAY"] == {
        "issued": 3,
        "redeemed": 0,
        "expired": 3,
        "redemptionRate": 0.0,
        "revenue": "0.00",
    }
    report = await run_in_transaction(lambda s: verify_coupons(session=s))
    assert report.ok and (report.coupons, report.events) == (6, 9)


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE coupon_events SET kind = 'REDEEMED'",
        "DELETE FROM coupon_events",
        "TRUNCATE coupon_events CASCADE",
    ],
)
async def test_raw_sql_cannot_change_or_remove_coupon_events(statement, admin, members, engine):
    template = await define(admin, "AO")
    await issue(admin, template["id"], "ao", members=await members(1))

    with pytest.raises(DBAPIError, match="append-only"):
        async with engine.begin() as conn:
            await conn.execute(text(statement))


async def test_verify_finds_a_status_its_events_do_not_explain(
    admin, members, run_in_transaction, database_url
):
    template = await define(admin, "T")
    ids = await members(2)
    await issue(admin, template["id"], "t", members=ids)
    assert (
        "coupons verify: OK: 2 coupons, 2 events"
        in memberhub(database_url, "coupons", "verify").stdout
    )

    await run_in_transaction(
        lambda s: s.execute(
            text(
                "UPDATE coupons SET status = 'REDEEMED', redeemed_at = issued_at"
                " WHERE member_id = :m"
            ),
            {"m": ids[1]},
        )
    )

    report = await run_in_transaction(lambda s: verify_coupons(session=s))
    assert not report.ok and report.broken == 1
    assert report.first_what == "status REDEEMED, its events say ACTIVE"
    done = memberhub(database_url, "coupons", "verify")
    assert done.returncode == 1
    assert "BROKEN: 1 coupon(s)" in done.stdout


async def test_memberhub_jobs_run_expires_coupons(
    admin, members, run_in_transaction, database_url, count_rows
):
    template = await define(admin, "PAST", validDays=1)
    await issue(admin, template["id"], "past", members=await members(2))
    # Issued at the test clock's start, a day's validity is long over by the wall clock.

    done = memberhub(database_url, "jobs", "run", "coupons.expire")

    assert done.returncode == 0, done.stderr
    assert await count_rows("SELECT count(*) FROM coupons WHERE status = 'EXPIRED'") == 2
    unknown = memberhub(database_url, "jobs", "run", "no.such.job")
    assert unknown.returncode != 0 and "coupons.expire" in unknown.stderr

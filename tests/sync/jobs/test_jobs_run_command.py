"""``memberhub jobs run``: operators run a scheduled job now instead of waiting for the clock."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta

from hub.scheduled_jobs import SCHEDULE
from tests.hub.api.purchases_graphql import account, record

JOBS = {
    "ledger.settle",
    "ledger.expire",
    "ledger.remind",
    "tiers.review",
    "ledger.purge_keys",
    "intelligence.refresh",
    "coupons.expire",
    "intelligence.reevaluate",
    "events.partitions",
    "campaigns.evaluate",
    "campaigns.deliver",
}


def memberhub(database_url: str, redis_url: str, namespace: str, *args: str):
    env = {
        **os.environ,
        "MEMBERHUB_DATABASE_URL": database_url,
        "MEMBERHUB_REDIS_URL": redis_url,
        "MEMBERHUB_REDIS_NAMESPACE": namespace,
        "MEMBERHUB_LOG_LEVEL": "WARNING",
        "MEMBERHUB_PHONE_HASH_SALT": "test-salt",
        "MEMBERHUB_TOKEN_SECRET": "test-token-secret",
    }
    return subprocess.run(
        [sys.executable, "-m", "hub", "jobs", "run", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


async def test_running_settlement_now_makes_yesterdays_points_available(
    graphql_client, admin, database_url, redis_url, redis_namespace
):
    till = await graphql_client("pos", store="S001")
    sale = await record(
        till, "R-1", "100.00", identities=[{"type": "PHONE", "value": "13800138000"}]
    )
    member_id = sale["purchase"]["member"]["id"]
    assert (await account(admin, member_id))["points"] == {
        "available": 0,
        "pending": 10,
        "lifetimeEarned": 10,
    }

    result = memberhub(database_url, redis_url, redis_namespace, "ledger.settle")

    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ran 1 job(s): ledger.settle"
    points = (await account(admin, member_id))["points"]
    assert (points["available"], points["pending"]) == (10, 0)


async def test_all_runs_each_due_job_once_per_period(
    database_url, redis_url, redis_namespace, clean_redis
):
    first = memberhub(database_url, redis_url, redis_namespace, "--all")
    second = memberhub(database_url, redis_url, redis_namespace, "--all")

    assert first.returncode == 0, first.stderr
    ran = first.stdout.strip().removeprefix(f"ran {len(JOBS)} job(s): ").split(", ")
    assert set(ran) == JOBS
    # A job of a period shorter than the two runs took (a few seconds) is due again.
    again = second.stdout.strip()
    fast = {name for _, name, every, _ in SCHEDULE if every <= timedelta(minutes=1)}
    assert (
        again == "ran 0 job(s): none was due" or set(again.split(": ", 1)[1].split(", ")) <= fast
    ), again


async def test_an_unknown_job_is_refused_naming_the_jobs_there_are(
    database_url, redis_url, redis_namespace
):
    result = memberhub(database_url, redis_url, redis_namespace, "ledger.nope")

    assert result.returncode != 0
    assert "ledger.nope" in result.stderr and "ledger.settle" in result.stderr

"""Retention: the ``events.partitions`` job drops day partitions past
``MEMBERHUB_EVENT_RETENTION_DAYS`` and creates the coming days' ahead."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import text

from sync.behaviour.partitions import day_of, partition_name
from sync.jobs.schedule import jobs, run_job
from tests.behaviour.behaviour_graphql import event, track
from tests.conftest import START
from tests.ledger.benefits.benefits_graphql import global_id


@pytest.fixture
def settings(settings):  # type: ignore[no-untyped-def]
    return settings.model_copy(update={"event_retention_days": 30})


async def _partitions(engine) -> list[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid"
                " WHERE i.inhparent = 'behaviour_events'::regclass ORDER BY 1"
            )
        )
        return [r[0] for r in rows]


async def _days_stored(engine) -> list[str]:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        rows = await connection.execute(
            text("SELECT event_id FROM behaviour_events ORDER BY occurred_at")
        )
        return [r[0] for r in rows]


async def test_the_job_drops_partitions_past_the_retention_and_creates_days_ahead(
    graphql_client, members, engine, session_factory
):
    relay = await graphql_client("partner", scopes=("events:write",))
    (me,) = await members({})
    member = global_id("Member", me)
    old, recent = START - timedelta(days=25), START - timedelta(days=2)
    accepted = await track(
        relay,
        [
            event("old", "PAGE_VIEW", old, member=member),
            event("new", "PAGE_VIEW", recent, member=member),
        ],
    )
    too_old = await track(
        relay, [event("ancient", "PAGE_VIEW", START - timedelta(days=31), member=member)]
    )
    job = jobs.get("events.partitions")

    # Ten days on, the old event is 35 days old: its whole day lies past 30 days.
    later = START + timedelta(days=10)
    await run_job(job, session_factory=session_factory, now=later)
    partitions = await _partitions(engine)
    await run_job(job, session_factory=session_factory, now=later)

    assert accepted["accepted"] == 2
    assert [e["code"] for e in too_old["userErrors"]] == ["INVALID_INPUT"]
    assert await _days_stored(engine) == ["new"]
    assert partition_name(day_of(old)) not in partitions
    assert partition_name(day_of(recent)) in partitions
    assert {partition_name(day_of(later + timedelta(days=n))) for n in range(4)} <= set(partitions)
    # Running again drops and creates nothing more.
    assert await _partitions(engine) == partitions

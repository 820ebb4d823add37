"""Segments that move with purchases and profile changes: the member is queued by the
domain event and the ``intelligence.reevaluate`` job moves them within seconds, emitting
``segment.entered``; the nightly refresh is not needed."""

from __future__ import annotations

from datetime import date

from sqlalchemy import text

from sync.jobs.schedule import jobs, run_job
from tests.behaviour.behaviour_graphql import DEFINE_SEGMENT, condition
from tests.hub.api.members_graphql import card, created_member
from tests.hub.api.purchases_graphql import record

SEGMENT_MEMBERS = """
query Segment($id: ID!) {
  node(id: $id) { ... on Segment { memberCount members(first: 10) { edges { node { id } } } } }
}
"""

UPDATE_PROFILE = """
mutation Profile($id: ID!, $profile: ProfileInput!) {
  updateProfile(memberId: $id, profile: $profile) { userErrors { code field } }
}
"""


async def _reevaluate(session_factory, clock) -> None:  # type: ignore[no-untyped-def]
    await run_job(
        jobs.get("intelligence.reevaluate"), session_factory=session_factory, now=clock.now()
    )


async def _entered(engine, segment_name: str) -> list[int]:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        rows = await connection.execute(
            text(
                "SELECT member_id FROM outbox_events WHERE event_type = 'segment.entered'"
                " AND payload ->> 'segment' = :name ORDER BY id"
            ),
            {"name": segment_name},
        )
        return [r[0] for r in rows]


async def test_a_purchase_moves_the_member_into_a_segment_on_the_next_run(
    admin, graphql_client, engine, session_factory, clock
):
    till = await graphql_client("pos", store="S001")
    shopper = await created_member(admin, "POS", card("C-1"))
    other = await created_member(admin, "POS", card("C-2"))
    big = (
        await admin.data(
            DEFINE_SEGMENT,
            input={"name": "big spenders", "rule": condition("TOTAL_SPEND", "GTE", "500")},
        )
    )["defineSegment"]["segment"]
    assert big["memberCount"] == 0
    await _reevaluate(session_factory, clock)  # drains what identify queued

    await record(till, "R-1", "800.00", memberId=shopper["id"])
    await record(till, "R-2", "20.00", memberId=other["id"])
    before = (await admin.data(SEGMENT_MEMBERS, id=big["id"]))["node"]
    await _reevaluate(session_factory, clock)
    after = (await admin.data(SEGMENT_MEMBERS, id=big["id"]))["node"]
    await _reevaluate(session_factory, clock)

    assert before["memberCount"] == 0
    assert after["memberCount"] == 1
    assert after["members"]["edges"] == [{"node": {"id": shopper["id"]}}]
    # One event, not one per run; the queue is empty once run.
    assert len(await _entered(engine, "big spenders")) == 1
    async with engine.connect() as connection:
        assert await connection.scalar(text("SELECT count(*) FROM member_reevaluations")) == 0


async def test_a_profile_change_moves_the_member_into_a_birthday_month_segment(
    admin, engine, session_factory, clock
):
    member = await created_member(admin, "POS", card("C-9"))
    november = (
        await admin.data(
            DEFINE_SEGMENT,
            input={"name": "november birthdays", "rule": condition("BIRTHDAY_MONTH", "EQ", "11")},
        )
    )["defineSegment"]["segment"]
    await _reevaluate(session_factory, clock)

    changed = await admin.data(
        UPDATE_PROFILE, id=member["id"], profile={"birthday": date(1992, 11, 24).isoformat()}
    )
    await _reevaluate(session_factory, clock)
    after = (await admin.data(SEGMENT_MEMBERS, id=november["id"]))["node"]

    assert changed["updateProfile"]["userErrors"] == []
    assert after["memberCount"] == 1
    assert len(await _entered(engine, "november birthdays")) == 1

"""Demo data: a programme the API reads and the ledger verifies."""

from __future__ import annotations

from sqlalchemy import text

from hub.seeding import hub_is_empty, seed_hub

MEMBERS_PAGE = """
{ members(first: 100) { totalCount edges { node { id status points { available } } } } }
"""


async def test_seed_writes_a_verified_programme_the_api_reads(
    engine, settings, clock, admin, run_in_transaction
):
    assert await hub_is_empty(engine)

    lines = await seed_hub(engine, settings, 60, 3)

    counts = dict(line.split(": ", 1) for line in lines[:-1])
    assert counts["members"] == "60"
    assert int(counts["merges"]) >= 1
    assert int(counts["purchases"]) > 60 and int(counts["members scored by RFM"]) > 30
    assert lines[-1].startswith("ledger verify: OK")
    statuses = await run_in_transaction(
        lambda s: s.execute(text("SELECT status, count(*) FROM members GROUP BY status"))
    )
    by_status = dict(statuses.all())
    assert by_status["ACTIVE"] == 60
    assert by_status["MERGED"] == int(counts["merges"])
    page = (await admin.data(MEMBERS_PAGE))["members"]
    assert page["totalCount"] == 60
    assert sum(edge["node"]["points"]["available"] for edge in page["edges"]) > 0
    assert not await hub_is_empty(engine)

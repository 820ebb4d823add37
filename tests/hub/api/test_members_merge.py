"""Manual merges, merge chains and unmerge through the API."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from sqlalchemy import text

from hub.api.member_inputs import identity_config
from hub.ids import decode_int_id
from identity.merge import merge_members
from tests.hub.api.members_graphql import (
    MEMBER_BY_ID,
    MEMBER_BY_IDENTITY,
    MERGE_MEMBERS,
    NODE,
    UNMERGE,
    card,
    created_member,
    identify,
    openid,
    phone,
    unionid,
)


async def merge(admin, survivor: str, merged: str, reason: str = "same person") -> dict:
    payload = (await admin.data(MERGE_MEMBERS, survivor=survivor, merged=merged, reason=reason))[
        "mergeMembers"
    ]
    assert payload["userErrors"] == [], payload
    return payload["merge"]


async def member(admin, member_id: str) -> dict:
    return (await admin.data(MEMBER_BY_ID, id=member_id))["member"]


async def test_merge_chains_resolve_to_the_last_survivor(admin, clock):
    a = await created_member(admin, "POS", card("A", "pos-a"))
    b = await created_member(admin, "POS", card("B", "pos-b"))
    c = await created_member(admin, "POS", card("C", "pos-c"))

    await merge(admin, b["id"], a["id"])
    await merge(admin, c["id"], b["id"])

    assert (await member(admin, a["id"]))["id"] == c["id"]
    assert (await member(admin, b["id"]))["id"] == c["id"]
    by_card = await admin.data(MEMBER_BY_IDENTITY, identity=card("A", "pos-a"))
    assert by_card["member"]["id"] == c["id"]
    survivor = await member(admin, c["id"])
    assert sorted(i["value"] for i in survivor["identities"]) == ["A", "B", "C"]
    assert [m["merged"]["id"] for m in survivor["merges"]] == [b["id"]]
    raw_a = (await admin.data(NODE, id=a["id"]))["node"]
    assert raw_a == {"id": a["id"], "status": "MERGED", "mergedInto": {"id": b["id"]}}


async def test_unmerge_restores_member_identities_and_profile(admin, clock, engine):
    survivor = await created_member(admin, "WEB", openid("o-s"), profile={"name": "Wang Fang"})
    clock.advance(timedelta(minutes=1))
    merged = await created_member(
        admin,
        "POS",
        card("C-9"),
        phone("13800138000"),
        profile={"gender": "FEMALE", "birthday": "1991-02-03", "region": "Shanghai"},
    )
    before = await member(admin, merged["id"])
    survivor_before = await member(admin, survivor["id"])
    done = await merge(admin, survivor["id"], merged["id"], "duplicate enrolment")
    clock.advance(timedelta(hours=1))
    # After the merge the survivor gains an identity of its own: it stays with the survivor.
    await identify(admin, "WEB", openid("o-s"), unionid("u-s"))

    undone = (await admin.data(UNMERGE, merge=done["id"], reason="two people after all"))["unmerge"]

    assert undone["userErrors"] == []
    assert undone["merge"]["merged"] == {"id": merged["id"], "status": "ACTIVE"}
    assert undone["merge"]["undoneAt"] is not None
    restored = await member(admin, merged["id"])
    assert restored["status"] == "ACTIVE" and restored["mergedInto"] is None
    assert restored["profile"] == before["profile"]
    assert _identity_values(restored) == _identity_values(before)
    kept = await member(admin, survivor["id"])
    assert kept["profile"] == survivor_before["profile"]
    assert _identity_values(kept) == ["o-s", "u-s"]
    assert kept["merges"][0]["undoneAt"] is not None
    async with engine.connect() as conn:
        audit = (
            await conn.execute(text("SELECT actor, undone_by, undo_reason FROM member_merges"))
        ).one()
    assert tuple(audit) == ("ops", "ops", "two people after all")
    again = (await admin.data(UNMERGE, merge=done["id"], reason="again"))["unmerge"]
    assert again["userErrors"][0]["code"] == "INVALID_INPUT"


def _identity_values(payload: dict) -> list[str]:
    return sorted(i["value"] for i in payload["identities"])


async def test_unmerge_works_after_the_survivor_was_merged_again(admin, clock):
    a = await created_member(admin, "POS", card("A", "pos-a"), phone("13800138000"))
    b = await created_member(admin, "POS", card("B", "pos-b"))
    c = await created_member(admin, "POS", card("C", "pos-c"))
    first = await merge(admin, b["id"], a["id"])
    await merge(admin, c["id"], b["id"])

    undone = (await admin.data(UNMERGE, merge=first["id"], reason="split A"))["unmerge"]

    assert undone["userErrors"] == []
    assert _identity_values(await member(admin, a["id"])) == ["+8613800138000", "A"]
    assert _identity_values(await member(admin, c["id"])) == ["B", "C"]
    assert (await member(admin, b["id"]))["id"] == c["id"]


async def test_a_merge_breaking_a_rule_is_refused_and_leaves_both_members_untouched(admin):
    first = await created_member(admin, "MINI_PROGRAM", openid("o-1"), phone("13800138000"))
    second = await created_member(admin, "MINI_PROGRAM", openid("o-2"), phone("13900139000"))

    refused = (
        await admin.execute(MERGE_MEMBERS, survivor=first["id"], merged=second["id"], reason="x")
    )["data"]["mergeMembers"]

    assert refused["merge"] is None
    assert refused["userErrors"][0]["code"] == "IDENTITY_CONFLICT"
    assert await member(admin, first["id"]) == first | {"merges": []}
    assert await member(admin, second["id"]) == second | {"merges": []}


async def test_merging_a_member_that_is_not_active_is_refused(admin):
    a = await created_member(admin, "POS", card("A", "pos-a"))
    b = await created_member(admin, "POS", card("B", "pos-b"))
    await merge(admin, a["id"], b["id"])

    again = (await admin.data(MERGE_MEMBERS, survivor=a["id"], merged=b["id"], reason="x"))[
        "mergeMembers"
    ]
    itself = (await admin.data(MERGE_MEMBERS, survivor=a["id"], merged=a["id"], reason="x"))[
        "mergeMembers"
    ]

    assert again["userErrors"][0]["code"] == "MEMBER_NOT_ACTIVE"
    assert again["userErrors"][0]["field"] == ["mergedId"]
    assert itself["userErrors"][0]["code"] == "INVALID_INPUT"


async def test_only_operators_merge_and_unmerge(admin, graphql_client):
    a = await created_member(admin, "POS", card("A", "pos-a"))
    b = await created_member(admin, "POS", card("B", "pos-b"))
    pos = await graphql_client("pos", store="S001")
    partner = await graphql_client("partner", scopes=("pii:read",))

    for client in (pos, partner):
        answer = await client.data(MERGE_MEMBERS, survivor=a["id"], merged=b["id"], reason="x")
        assert answer["mergeMembers"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert (await member(admin, b["id"]))["status"] == "ACTIVE"


async def test_identify_waiting_on_a_merge_answers_with_the_survivor(
    admin, session_factory, engine, settings, clock
):
    merged = await created_member(admin, "POS", phone("13900001111"))
    survivor = await created_member(admin, "POS", unionid("u-survivor"))

    async with session_factory() as session, session.begin():
        # An operator's merge, not yet committed: the merged member's row is locked and
        # its phone already sits on the survivor in this transaction.
        await merge_members(
            session,
            survivor_id=decode_int_id(survivor["id"], "Member"),
            merged_id=decode_int_id(merged["id"], "Member"),
            reason="same person",
            actor="ops",
            now=clock.now(),
            config=identity_config(settings),
        )
        call = asyncio.create_task(identify(admin, "POS", phone("13900001111")))
        assert await _waits_on_a_lock(engine), "identify should wait for the merge"
        assert not call.done()

    payload = await asyncio.wait_for(call, timeout=10)
    assert payload["userErrors"] == []
    assert payload["outcome"] == "MATCHED"
    assert payload["member"]["id"] == survivor["id"]


async def _waits_on_a_lock(engine) -> bool:  # type: ignore[no-untyped-def]
    for _ in range(100):
        async with engine.connect() as connection:
            waiting = await connection.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE datname = current_database() AND wait_event_type = 'Lock'"
                )
            )
        if waiting:
            return True
        await asyncio.sleep(0.05)
    return False

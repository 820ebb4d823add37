"""``trackEvents`` over real HTTP: dedup by the sender's event ID, a member token only for
itself, and every edge input refused with nothing written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import text

from tests.behaviour.behaviour_graphql import TRACK, event, track
from tests.graphql_client import GraphQLClient
from tests.hub.api.points_graphql import ISSUE_TOKEN
from tests.ledger.benefits.benefits_graphql import global_id


def _now() -> datetime:
    # The live hub runs on the real clock.
    return datetime.now(UTC) - timedelta(minutes=5)


async def _stored(engine) -> int:  # type: ignore[no-untyped-def]
    async with engine.connect() as connection:
        return int(await connection.scalar(text("SELECT count(*) FROM behaviour_events")))


async def _member_token(live_client, live_http, member_id: int) -> GraphQLClient:  # type:
    # ignore[no-untyped-def]
    server = await live_client("partner", scopes=("members:impersonate",))
    token = (await server.data(ISSUE_TOKEN, id=global_id("Member", member_id)))["issueMemberToken"]
    return GraphQLClient(live_http, token["token"])


async def test_a_resent_batch_is_counted_once_and_duplicates_within_a_batch_too(
    live_client, members, engine
):
    relay = await live_client("partner", scopes=("events:write",))
    (me,) = await members({})
    at = _now()
    batch = [
        event(f"e-{n}", "VIEW_PRODUCT", at, member=global_id("Member", me), sku=f"SKU-{n}")
        for n in range(20)
    ]

    first = await track(relay, [*batch, batch[0]])
    again = await track(relay, batch)

    assert (first["accepted"], first["duplicates"], first["userErrors"]) == (20, 1, [])
    assert (again["accepted"], again["duplicates"]) == (0, 20)
    assert await _stored(engine) == 20


async def test_a_member_token_sends_for_itself_only(live_client, live_http, members, engine):
    me, other = await members({}, {})
    mine = await _member_token(live_client, live_http, me)
    at = _now()

    own = await track(mine, [event("a", "PAGE_VIEW", at), event("b", "SEARCH", at, query="奶粉")])
    named_own = await track(mine, [event("c", "SHARE", at, member=global_id("Member", me))])
    theirs = await track(
        mine,
        [
            event("d", "PAGE_VIEW", at),
            event("e", "FAVORITE", at, member=global_id("Member", other)),
        ],
    )

    assert (own["accepted"], named_own["accepted"]) == (2, 1)
    assert theirs["accepted"] == 0
    assert [(e["code"], e["field"]) for e in theirs["userErrors"]] == [
        ("FORBIDDEN", ["events", "1", "memberId"])
    ]
    async with engine.connect() as connection:
        owners = (
            await connection.execute(text("SELECT DISTINCT member_id FROM behaviour_events"))
        ).scalars()
        assert set(owners) == {me}


async def test_keys_without_events_write_are_forbidden(live_client, members):
    (me,) = await members({})
    for kind in ("frontend", "partner", "pos"):
        client = await live_client(kind, store="S001") if kind == "pos" else await live_client(kind)
        body = await client.execute(
            TRACK, events=[event("x", "PAGE_VIEW", _now(), member=global_id("Member", me))]
        )
        errors = body["data"]["trackEvents"]["userErrors"]
        assert [e["code"] for e in errors] == ["FORBIDDEN"], kind


async def test_edge_inputs_are_invalid_input_naming_the_event_and_nothing_is_written(
    live_client, members, engine
):
    relay = await live_client("partner", scopes=("events:write",))
    (me,) = await members({})
    member = global_id("Member", me)
    at = _now()
    cases = [
        (event("nul\x00id", "PAGE_VIEW", at, member=member), ["events", "1", "eventId"]),
        (event("x" * 129, "PAGE_VIEW", at, member=member), ["events", "1", "eventId"]),
        (event("long-sku", "VIEW_PRODUCT", at, member=member, sku="S" * 65), None),
        (event("nul-query", "SEARCH", at, member=member, query="a\x00b"), None),
        (event("blank", "VIEW_PRODUCT", at, member=member, category="  "), None),
        (event("old", "PAGE_VIEW", at - timedelta(days=400), member=member), None),
        (event("future", "PAGE_VIEW", at + timedelta(days=3), member=member), None),
        (event("no-member", "PAGE_VIEW", at), ["events", "1"]),
        (event("bad-id", "PAGE_VIEW", at, member="not-an-id"), None),
        (event("unknown", "PAGE_VIEW", at, member=global_id("Member", 10**12)), None),
    ]
    for bad, field in cases:
        body = await relay.execute(
            TRACK, events=[event("fine", "PAGE_VIEW", at, member=member), bad]
        )
        payload = body["data"]["trackEvents"]
        codes = {e["code"] for e in payload["userErrors"]}
        assert payload["accepted"] == 0 and codes <= {"INVALID_INPUT", "NOT_FOUND"} and codes, bad
        assert all(e["field"][:2] == ["events", "1"] for e in payload["userErrors"]), payload
        if field is not None:
            assert payload["userErrors"][0]["field"] == field

    too_many = await track(
        relay, [event(f"n{n}", "PAGE_VIEW", at, member=member) for n in range(501)]
    )
    naive = await relay.execute(
        TRACK,
        events=[
            {**event("naive", "PAGE_VIEW", at, member=member), "occurredAt": "2026-12-01T10:00:00"}
        ],
    )

    assert [(e["code"], e["field"]) for e in too_many["userErrors"]] == [
        ("INVALID_INPUT", ["events"])
    ]
    assert "errors" in naive or naive["data"]["trackEvents"]["userErrors"]
    assert await _stored(engine) == 0


async def test_concurrent_resends_and_a_new_days_partition_are_counted_once(
    live_client, members, engine
):
    import asyncio

    relays = [await live_client("partner", scopes=("events:write",)) for _ in range(4)]
    (me,) = await members({})
    # A day no other test writes to: its partition is created by whichever batch comes first.
    day = _now() - timedelta(days=170)
    batch = [
        event(f"c-{n}", "PAGE_VIEW", day + timedelta(seconds=n), member=global_id("Member", me))
        for n in range(100)
    ]

    answers = await asyncio.gather(*(track(relay, batch) for relay in relays))

    assert all(a["userErrors"] == [] for a in answers), answers
    assert sum(a["accepted"] for a in answers) == 100
    assert sum(a["duplicates"] for a in answers) == 300
    assert await _stored(engine) == 100

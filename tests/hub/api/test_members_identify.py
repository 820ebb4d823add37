"""identify through the API: normalisation, every outcome along a real channel story,
events in the outbox, review cases."""

from __future__ import annotations

from sqlalchemy import text

from tests.hub.api.members_graphql import (
    MEMBER_BY_IDENTITY,
    card,
    created_member,
    identify,
    openid,
    phone,
    unionid,
)
from tests.statements import counted_statements

TABLES = ("members", "member_identities", "member_merges", "identity_reviews", "outbox_events")


async def row_counts(engine) -> dict[str, int]:
    async with engine.connect() as conn:
        return {
            t: (await conn.execute(text(f"SELECT count(*) FROM {t}"))).scalar_one() for t in TABLES
        }


async def test_four_spellings_of_one_phone_resolve_to_one_member(admin):
    first = await created_member(admin, "POS", phone("138 0013 8000"))

    outcomes = [
        await identify(admin, "WEB", phone(spelling))
        for spelling in ("+86 138-0013-8000", "008613800138000", "8613800138000")
    ]

    assert [o["outcome"] for o in outcomes] == ["MATCHED"] * 3
    assert {o["member"]["id"] for o in outcomes} == {first["id"]}
    assert first["identities"][0]["value"] == "+8613800138000"


async def test_bad_inputs_are_invalid_input_at_their_field_and_write_nothing(admin, engine):
    await created_member(admin, "POS", phone("13800138000"))
    before = await row_counts(engine)

    bad_phone = await identify(admin, "POS", card("C-1"), phone("12345"))
    empty = await identify(admin, "POS", {"type": "EMAIL", "value": "  "})
    no_namespace = await identify(admin, "POS", {"type": "WECHAT_OPENID", "value": "o-1"})
    none_at_all = await identify(admin, "POS")
    bad_birthday = await identify(admin, "POS", card("C-2"), profile={"birthday": "2099-01-01"})

    assert bad_phone["userErrors"][0]["code"] == "INVALID_INPUT"
    assert bad_phone["userErrors"][0]["field"] == ["input", "identities", "1", "value"]
    assert empty["userErrors"][0]["field"] == ["input", "identities", "0", "value"]
    assert no_namespace["userErrors"][0]["field"] == ["input", "identities", "0", "namespace"]
    assert none_at_all["userErrors"][0]["field"] == ["input", "identities"]
    assert bad_birthday["userErrors"][0]["field"] == ["input", "profile", "birthday"]
    for payload in (bad_phone, empty, no_namespace, none_at_all, bad_birthday):
        assert payload["member"] is None and payload["outcome"] is None
    assert await row_counts(engine) == before


async def test_a_channel_story_meets_every_outcome(admin, clock, engine):
    # Registers in the mini-program with its OpenID.
    registered = await identify(admin, "MINI_PROGRAM", openid("o-li-na"), profile={"name": "Li Na"})
    # Opens the mini-program again.
    again = await identify(admin, "MINI_PROGRAM", openid("o-li-na"))
    # Authorises her phone in the mini-program (WeChat phone authorisation: verified).
    linked = await identify(admin, "MINI_PROGRAM", openid("o-li-na"), phone("13800138000"))
    # Earlier, a store cashier had enrolled a card for her with only the card and a birthday.
    store = await created_member(admin, "POS", card("C-778"), profile={"birthday": "1990-05-17"})
    # Buys at a POS with that card and the verified phone (SMS code at the till).
    merged = await identify(admin, "POS", card("C-778"), phone("+86 138 0013 8000"))
    # Someone types her card with another, unverified phone on the web.
    conflict_target = await created_member(admin, "WEB", phone("13900139000", verified=False))
    conflict = await identify(admin, "WEB", card("C-778"), phone("13900139000", verified=False))

    member_id = registered["member"]["id"]
    assert registered["outcome"] == "CREATED"
    assert again["outcome"] == "MATCHED" and again["member"]["id"] == member_id
    assert linked["outcome"] == "LINKED" and linked["member"]["id"] == member_id
    assert merged["outcome"] == "MERGED"
    assert merged["member"]["id"] == member_id  # the oldest member survives
    assert merged["merge"]["merged"] == {"id": store["id"], "status": "MERGED"}
    assert merged["merge"]["evidence"] == {"type": "PHONE", "value": "+8613800138000"}
    assert merged["merge"]["actor"] == "ops"
    assert merged["member"]["profile"] == {
        "name": "Li Na",
        "gender": "UNKNOWN",
        "birthday": "1990-05-17",  # a gap filled from the merged member
        "region": None,
    }
    assert sorted(i["type"] for i in merged["member"]["identities"]) == [
        "PHONE",
        "POS_CARD",
        "WECHAT_OPENID",
    ]
    assert conflict["outcome"] == "CONFLICT" and conflict["member"] is None
    async with engine.connect() as conn:
        reviews = (
            await conn.execute(text("SELECT reason, member_ids FROM identity_reviews"))
        ).all()
    assert [(r.reason, sorted(r.member_ids)) for r in reviews] == [
        ("NO_VERIFIED_EVIDENCE", sorted([_key(member_id), _key(conflict_target["id"])]))
    ]
    after = await admin.data(MEMBER_BY_IDENTITY, identity=phone("13900139000", verified=False))
    assert after["member"]["id"] == conflict_target["id"]
    assert len(after["member"]["identities"]) == 1


def _key(global_id: str) -> int:
    from hub.ids import decode_int_id

    return decode_int_id(global_id, "Member")


async def test_matching_updates_last_seen_and_upgrades_verification(admin, clock):
    from datetime import timedelta

    created = await created_member(admin, "WEB", phone("13800138000", verified=False))
    clock.advance(timedelta(days=3))

    seen = await identify(admin, "POS", phone("13800138000", verified=True))

    before, after = created["identities"][0], seen["member"]["identities"][0]
    assert seen["outcome"] == "MATCHED"
    assert after["verified"] is True
    assert after["linkedAt"] == before["linkedAt"]
    assert after["lastSeenAt"] > before["lastSeenAt"]


async def test_an_unverified_identity_never_steals_a_verified_one(admin):
    owner = await created_member(admin, "POS", card("C-1"), phone("13800138000"))
    other = await created_member(admin, "WEB", {"type": "EMAIL", "value": "x@example.com"})

    stolen = await identify(
        admin,
        "WEB",
        {"type": "EMAIL", "value": "x@example.com"},
        phone("13800138000", verified=False),
    )

    assert stolen["outcome"] == "CONFLICT"
    still = await admin.data(MEMBER_BY_IDENTITY, identity=phone("13800138000"))
    assert still["member"]["id"] == owner["id"] != other["id"]


async def test_linking_past_a_merge_rule_is_a_conflict_and_changes_nothing(admin):
    member = await created_member(admin, "POS", card("C-1"), phone("13800138000"))

    second_phone = await identify(admin, "POS", card("C-1"), phone("13900139000"))

    assert second_phone["outcome"] == "CONFLICT"
    found = await admin.data(MEMBER_BY_IDENTITY, identity=card("C-1"))
    assert len(found["member"]["identities"]) == 2 == len(member["identities"])


async def test_create_if_missing_false_creates_nothing(admin, engine):
    payload = await identify(admin, "POS", card("C-404"), createIfMissing=False)

    assert payload["userErrors"][0]["code"] == "NOT_FOUND"
    assert (await row_counts(engine))["members"] == 0


async def test_events_of_creation_reach_the_outbox_masked_with_the_phone_hash(admin, engine):
    referrer = await created_member(admin, "WEB", unionid("u-ref"))

    new = await created_member(
        admin, "MINI_PROGRAM", openid("o-new"), phone("13800138000"), referrerId=referrer["id"]
    )

    async with engine.connect() as conn:
        rows = (
            await conn.execute(
                text(
                    "SELECT event_type, payload FROM outbox_events WHERE member_id = :member"
                    " AND event_type IN ('member.created', 'identity.linked') ORDER BY id"
                ),
                {"member": _key(new["id"])},
            )
        ).all()
    assert [r.event_type for r in rows] == ["member.created", "identity.linked", "identity.linked"]
    assert rows[0].payload["referrer_id"] == _key(referrer["id"])
    phone_event = next(r.payload for r in rows if r.payload.get("identity_type") == "PHONE")
    assert phone_event["masked_value"] == "138****8000"
    assert len(phone_event["phone_hash"]) == 64
    assert "13800138000" not in str([r.payload for r in rows])


async def test_an_unknown_referrer_is_invalid_input(admin, engine):
    payload = await identify(admin, "WEB", card("C-1"), referrerId="TWVtYmVyOjk5OTk=")

    assert payload["userErrors"][0]["code"] == "INVALID_INPUT"
    assert payload["userErrors"][0]["field"] == ["input", "referrerId"]
    assert (await row_counts(engine))["members"] == 0


async def test_a_new_members_events_are_written_with_one_insert_in_their_order(admin, engine):
    with counted_statements(engine) as statements:
        new = await created_member(admin, "POS", phone("13800138001"), card("C-77"))

    async with engine.connect() as conn:
        events = (
            await conn.scalars(
                text("SELECT event_type FROM outbox_events WHERE member_id = :m ORDER BY id"),
                {"m": _key(new["id"])},
            )
        ).all()
    # The sign-up bonus is paid when the phone is linked, before its event is published.
    assert events == ["member.created", "points.credited", "identity.linked", "identity.linked"]
    assert sum(s.startswith("INSERT INTO outbox_events") for s in statements) == 1

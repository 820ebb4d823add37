"""The new rule conditions (behaviour and profile) through ``previewSegment`` and saved
segments: one compiled statement each, as every other condition."""

from __future__ import annotations

from datetime import date, timedelta

from tests.behaviour.behaviour_graphql import (
    DEFINE_SEGMENT,
    condition,
    event,
    selected,
    track,
)
from tests.conftest import START
from tests.hub.api.purchases_graphql import record
from tests.ledger.benefits.benefits_graphql import global_id


async def test_cart_abandoned_is_a_cart_add_in_the_window_with_no_purchase_since(
    admin, graphql_client, members
):
    relay = await graphql_client("partner", scopes=("events:write",))
    till = await graphql_client("pos", store="S001")
    abandoned, bought, stale, browsing = await members({}, {}, {}, {})
    gid = {m: global_id("Member", m) for m in (abandoned, bought, stale, browsing)}
    await track(
        relay,
        [
            event("a1", "ADD_TO_CART", START - timedelta(days=2), member=gid[abandoned], sku="X"),
            event("b1", "ADD_TO_CART", START - timedelta(days=3), member=gid[bought], sku="X"),
            event("s1", "ADD_TO_CART", START - timedelta(days=20), member=gid[stale], sku="X"),
            event("v1", "VIEW_PRODUCT", START - timedelta(days=1), member=gid[browsing], sku="X"),
        ],
    )
    await record(till, "R-1", "50.00", memberId=gid[bought], at=START - timedelta(days=1))

    carts = await selected(admin, condition("CART_ABANDONED", "EQ", "true", within=7))
    not_carts = await selected(admin, condition("CART_ABANDONED", "EQ", "false", within=7))
    ever = await selected(admin, condition("CART_ABANDONED", "EQ", "true"))

    assert carts == {gid[abandoned]}
    assert not_carts == {gid[bought], gid[stale], gid[browsing]}
    assert ever == {gid[abandoned], gid[stale]}


async def test_profile_conditions_birthday_month_age_gender_region(admin, members):
    # START is 2026-11-21.
    november, march, unknown = await members(
        {"birthday": date(1990, 11, 30), "gender": "FEMALE", "region": "上海"},
        {"birthday": date(2000, 3, 1), "gender": "MALE", "region": "北京"},
        {},
    )
    gid = {m: global_id("Member", m) for m in (november, march, unknown)}

    assert await selected(admin, condition("BIRTHDAY_MONTH", "EQ", "11")) == {gid[november]}
    assert await selected(admin, condition("BIRTHDAY_MONTH", "IN", "3", "12")) == {gid[march]}
    # Born 1990-11-30: still 35 on 2026-11-21.
    assert await selected(admin, condition("AGE", "EQ", "35")) == {gid[november]}
    assert await selected(admin, condition("AGE", "LT", "30")) == {gid[march]}
    assert await selected(admin, condition("GENDER", "EQ", "FEMALE")) == {gid[november]}
    assert await selected(admin, condition("GENDER", "NE", "FEMALE")) == {
        gid[march],
        gid[unknown],
    }
    assert await selected(admin, condition("REGION", "IN", "北京", "广州")) == {gid[march]}
    assert await selected(admin, {"not": condition("REGION", "EQ", "北京")}) == {
        gid[november],
        gid[unknown],
    }


async def test_viewed_category_and_event_count_and_a_saved_segment_using_them(
    admin, graphql_client, members
):
    relay = await graphql_client("partner", scopes=("events:write",))
    fan, lurker, idle = await members({}, {}, {})
    gid = {m: global_id("Member", m) for m in (fan, lurker, idle)}
    recent, old = START - timedelta(days=1), START - timedelta(days=40)
    await track(
        relay,
        [
            *(
                event(f"f{n}", "VIEW_PRODUCT", recent, member=gid[fan], category="奶粉")
                for n in range(3)
            ),
            event("l1", "VIEW_PRODUCT", old, member=gid[lurker], category="奶粉"),
            event("l2", "PAGE_VIEW", recent, member=gid[lurker]),
        ],
    )

    viewed = await selected(admin, condition("VIEWED_CATEGORY", "EQ", "奶粉", within=30))
    viewed_ever = await selected(admin, condition("VIEWED_CATEGORY", "IN", "奶粉", "玩具"))
    busy = await selected(admin, condition("EVENT_COUNT", "GTE", "3", within=30))
    quiet = await selected(admin, condition("EVENT_COUNT", "EQ", "0", within=30))
    saved = (
        await admin.data(
            DEFINE_SEGMENT,
            input={
                "name": "formula browsers",
                "rule": {
                    "all": [
                        condition("VIEWED_CATEGORY", "EQ", "奶粉", within=30),
                        condition("EVENT_COUNT", "GTE", "2", within=30),
                    ]
                },
            },
        )
    )["defineSegment"]

    assert viewed == {gid[fan]}
    assert viewed_ever == {gid[fan], gid[lurker]}
    assert busy == {gid[fan]}
    assert quiet == {gid[idle]}
    assert saved["userErrors"] == [] and saved["segment"]["memberCount"] == 1


async def test_new_fields_refuse_bad_values_and_windows(admin):
    from tests.behaviour.behaviour_graphql import PREVIEW

    bad = [
        condition("GENDER", "EQ", "OTHER"),
        condition("CART_ABANDONED", "EQ", "maybe"),
        condition("BIRTHDAY_MONTH", "EQ", "November"),
        condition("REGION", "EQ", "x" * 201),
        condition("AGE", "EQ", "30", within=7),
        condition("EVENT_COUNT", "GT", "1", within=0),
        condition("VIEWED_CATEGORY", "GT", "奶粉"),
    ]
    for rule in bad:
        body = await admin.execute(PREVIEW, rule=rule)
        assert body["errors"][0]["extensions"]["code"] == "INVALID_INPUT", rule

"""Daily check-in: once per Shanghai business day across every channel."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from tests.hub.api.members_graphql import card, created_member
from tests.hub.api.points_graphql import CHECK_IN, codes, points_of

SHANGHAI = ZoneInfo("Asia/Shanghai")


async def check_in(client, member_id: str, channel: str, key: str) -> dict:  # type:
    # ignore[no-untyped-def]
    data = await client.data(
        CHECK_IN, input={"memberId": member_id, "channel": channel, "idempotencyKey": key}
    )
    return data["checkIn"]


async def test_second_check_in_of_a_shanghai_day_is_refused_on_any_channel(
    admin, graphql_client, clock
):
    member = await created_member(admin, "POS", card("CK-1"))
    till = await graphql_client("pos", store="S001")
    # 00:30 in Shanghai is still the previous day in UTC: the business day is Shanghai's.
    clock.set(datetime(2026, 11, 21, 0, 30, tzinfo=SHANGHAI))
    first = await check_in(admin, member["id"], "MINI_PROGRAM", "ck-1")
    clock.set(datetime(2026, 11, 21, 23, 59, tzinfo=SHANGHAI))
    second = await check_in(till, member["id"], "POS", "ck-2")
    clock.set(datetime(2026, 11, 22, 0, 1, tzinfo=SHANGHAI))
    next_day = await check_in(till, member["id"], "POS", "ck-3")
    retry_of_first = await check_in(admin, member["id"], "MINI_PROGRAM", "ck-1")

    assert first["userErrors"] == [] and first["entry"]["amount"] == 2
    assert first["entry"]["channel"] == "MINI_PROGRAM"
    assert codes(second) == ["ALREADY_CHECKED_IN"] and second["entry"] is None
    assert second["decision"] == {"outcome": "REJECTED", "reasons": ["CHECKIN_DAILY"]}
    assert next_day["userErrors"] == [] and next_day["entry"]["balanceAfter"] == 4
    assert retry_of_first["replayed"] is True and retry_of_first["entry"] == first["entry"]
    assert (await points_of(admin, member["id"]))["available"] == 4

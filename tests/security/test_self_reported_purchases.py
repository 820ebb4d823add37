"""Purchases a member reports itself: refused, since only a till or a shop's server can vouch
for a sale, and points are money."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.hub.api.members_graphql import created_member, phone
from tests.hub.api.purchases_graphql import RECORD, RECORD_BATCH, purchase_input
from tests.security.members_graphql import acting_as, codes, member

PURCHASE = """
query Purchase($store: ID!, $receipt: String!) {
  purchase(storeId: $store, receiptNo: $receipt) { id }
}
"""


async def test_a_member_token_cannot_record_purchases(live_client, live_http):
    admin = await live_client("admin")
    own = await created_member(admin, "WEB", phone("13800138000", verified=False))
    token = await acting_as(live_http, admin, own["id"])
    now = datetime.now(UTC)

    single = (
        await token.data(
            RECORD,
            input=purchase_input(
                "R-1", "9999.99", store="WEB", channel="WEB", at=now, memberId=own["id"]
            ),
        )
    )["recordPurchase"]
    batch = (
        await token.data(
            RECORD_BATCH,
            inputs=[
                purchase_input(
                    "R-2",
                    "9999.99",
                    store="WEB",
                    channel="MINI_PROGRAM",
                    at=now,
                    memberId=own["id"],
                )
            ],
        )
    )["recordPurchases"]

    assert codes(single) == ["FORBIDDEN"] and single["purchase"] is None
    assert [codes(answer) for answer in batch] == [["FORBIDDEN"]]
    for receipt in ("R-1", "R-2"):
        assert (await admin.data(PURCHASE, store="WEB", receipt=receipt))["purchase"] is None
    points = (await member(admin, own["id"]))["points"]
    assert points == {"available": 0, "pending": 0, "lifetimeEarned": 0}

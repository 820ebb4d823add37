"""The dashboard's coupon figures over HTTP: issues and redemptions of the period."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import text

from tests.ledger.benefits.benefits_graphql import define, issue

DASHBOARD = """
query Dashboard($from: Date!, $to: Date!, $store: ID) {
  dashboard(from: $from, to: $to, storeId: $store) { couponsIssued couponsRedeemed }
}
"""


async def test_the_dashboard_counts_the_coupons_issued_and_redeemed_in_its_period(
    live_client, members, run_in_transaction
):
    admin = await live_client("admin")
    ids = await members(3)
    template = await define(admin, "DASH-50")
    assert (await issue(admin, template["id"], "dash", members=ids))["issued"] == 3

    async def redeem_one(session) -> object:  # type: ignore[no-untyped-def]
        # The till's redemption is its own feature; the event it records is what counts.
        await session.execute(
            text(
                "INSERT INTO stores (id, time_zone, created_at)"
                " VALUES ('S001', 'Asia/Shanghai', now()) ON CONFLICT DO NOTHING"
            )
        )
        purchase = await session.scalar(
            text(
                "INSERT INTO purchases (member_id, store_id, receipt_no, channel, amount,"
                " refunded_amount, occurred_at, recorded_at, status, has_promotion,"
                " content_hash, rule_version, business_day, points_earned)"
                " SELECT member_id, 'S001', 'C1', 'POS', 300, 0, at, at, 'COMPLETED', false,"
                " '\\x00', 'test', CAST(at AS date), 0 FROM coupon_events LIMIT 1 RETURNING id"
            )
        )
        await session.execute(
            text(
                "INSERT INTO coupon_events (coupon_id, member_id, kind, at, purchase_id)"
                " SELECT coupon_id, member_id, 'REDEEMED', at, :p FROM coupon_events LIMIT 1"
            ),
            {"p": purchase},
        )
        return await session.scalar(text("SELECT min(at) FROM coupon_events"))

    at = await run_in_transaction(redeem_one)
    day = at.astimezone(ZoneInfo("Asia/Shanghai")).date()

    async def figures(start, end, store=None) -> dict:  # type: ignore[no-untyped-def]
        period = {"from": start.isoformat(), "to": end.isoformat(), "store": store}
        return (await admin.data(DASHBOARD, **period))["dashboard"]

    assert await figures(day, day) == {"couponsIssued": 3, "couponsRedeemed": 1}
    assert await figures(day, day, "S002") == {"couponsIssued": 3, "couponsRedeemed": 0}
    before = day - timedelta(days=1)
    assert await figures(before, before) == {"couponsIssued": 0, "couponsRedeemed": 0}

"""The operator console in Chromium: every figure it shows is the API's, for the key it
signed in with, and it talks to no one but the hub."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from decimal import Decimal
from zoneinfo import ZoneInfo

from tests.hub.console.conftest import needs_chromium
from tests.hub.console.shop import DASHBOARD, POINTS, buy, member_with_phone

DEFINE_PROMOTION = """
mutation P($input: PromotionInput!) { definePromotion(input: $input) { userErrors { code } } }
"""
DOUBLE_POINTS = {
    "name": "double points",
    "kind": "MULTIPLIER",
    "value": "2",
    "startsAt": "2020-01-01T00:00:00+08:00",
}

pytestmark = needs_chromium

ADJUST = """
mutation A($input: AdjustInput!) { adjustPoints(input: $input) { userErrors { code } } }
"""
REVIEWS = """
query R($status: ReviewStatus!) {
  fraudReviews(status: $status) { edges { node { id status note } } }
}
"""
PREVIEW = """
query P($rule: SegmentRuleInput!) { previewSegment(rule: $rule) { totalCount } }
"""


async def test_a_refused_key_stays_at_sign_in_and_a_good_one_reaches_the_dashboard(
    console, new_key
):
    tab = await console()
    await tab.open()
    await tab.page.get_by_test_id("api-key").fill("mh_not-a-key")
    await tab.page.get_by_test_id("sign-in").click()

    error = tab.page.get_by_test_id("sign-in-error")
    await error.filter(has_text="refused").wait_for()
    assert await tab.page.get_by_test_id("nav-dashboard").count() == 0

    await tab.sign_in(await new_key("admin"))
    await tab.page.get_by_test_id("kpi-members").wait_for()
    assert await tab.page.evaluate("sessionStorage.length") == 1
    assert await tab.page.evaluate("localStorage.getItem('memberhub.console.key')") is None


async def test_a_key_the_hub_stops_accepting_sends_the_operator_back_to_sign_in(console, new_key):
    tab = await console()
    await tab.sign_in(await new_key("admin"))
    await tab.page.get_by_test_id("kpi-members").wait_for()
    await tab.page.evaluate("sessionStorage.setItem('memberhub.console.key', 'mh_revoked')")

    await tab.page.get_by_test_id("nav-reviews").click()

    await tab.page.get_by_test_id("sign-in-error").filter(has_text="sign in again").wait_for()
    assert await tab.page.get_by_test_id("api-key").is_visible()


async def test_the_dashboards_period_ends_on_the_programmes_today_not_the_browsers(console, api):
    tab = await console()
    await tab.sign_in(api.key)
    await tab.page.get_by_test_id("kpi-members").wait_for()

    shanghai_today = datetime.now(ZoneInfo("Asia/Shanghai")).date()
    end = await tab.page.get_by_test_id("dash-to").input_value()
    start = await tab.page.get_by_test_id("dash-from").input_value()
    assert end == shanghai_today.isoformat()
    assert start == (shanghai_today - timedelta(days=29)).isoformat()


async def test_the_dashboard_shows_the_apis_members_and_revenue(console, api, live_client):
    till = await live_client("pos", store="S001")
    promotion = await api.data(DEFINE_PROMOTION, input=DOUBLE_POINTS)
    assert promotion["definePromotion"]["userErrors"] == []
    for n, amount in enumerate(["128.50", "300.00", "71.25"]):
        member = await member_with_phone(api, f"1380013800{n}")
        await buy(till, member["id"], f"R-{n}", amount)
    tab = await console()
    await tab.sign_in(api.key)

    members = tab.page.get_by_test_id("kpi-members")
    await members.wait_for()
    start = await tab.page.get_by_test_id("dash-from").input_value()
    end = await tab.page.get_by_test_id("dash-to").input_value()
    figures = (await api.data(DASHBOARD, **{"from": start, "to": end}))["dashboard"]
    revenue = tab.page.get_by_test_id("kpi-revenue")
    bars = tab.page.get_by_test_id("chart-revenue").locator("rect[data-revenue]")

    assert figures["members"] == 3 and Decimal(figures["revenue"]) == Decimal("499.75")
    assert await members.get_attribute("data-value") == str(figures["members"])
    assert await revenue.get_attribute("data-value") == figures["revenue"]
    assert "499.75" in await revenue.inner_text()
    assert "3" in await members.inner_text()
    # Doubled base points: 12 + 30 + 7 from the promotion.
    assert figures["promotionPoints"] == 49
    for testid, field in (
        ("kpi-coupons-issued", "couponsIssued"),
        ("kpi-coupons-redeemed", "couponsRedeemed"),
        ("kpi-promotion-points", "promotionPoints"),
    ):
        shown = tab.page.get_by_test_id(testid)
        assert await shown.get_attribute("data-value") == str(figures[field])
    # The chart's sub-periods cover the period: their revenue adds up to the period's.
    shown = [Decimal(await bar.get_attribute("data-revenue")) for bar in await bars.all()]
    assert len(shown) >= 2 and sum(shown) == Decimal("499.75")


async def test_searching_a_phone_shows_the_members_available_points(console, api):
    member = await member_with_phone(api, "13800138000")
    await api.data(
        ADJUST,
        input={"memberId": member["id"], "points": 250, "idempotencyKey": "k-1", "reason": "gift"},
    )
    available = (await api.data(POINTS, id=member["id"]))["member"]["points"]["available"]
    tab = await console()
    await tab.sign_in(api.key)
    await tab.page.get_by_test_id("nav-members").click()

    search = tab.page.get_by_test_id("member-search")
    await search.fill("13800138000")
    await search.press("Enter")

    card = tab.page.get_by_test_id("member-card")
    await card.wait_for()
    points = card.get_by_test_id("points-available")
    assert await card.get_attribute("data-member-id") == member["id"]
    assert available >= 250
    assert await points.get_attribute("data-value") == str(available)
    assert re.sub(r"\D", "", await points.inner_text()) == str(available)
    # The admin key holds pii:read: the phone in clear.
    assert "+8613800138000" in await card.get_by_test_id("identity-value").all_inner_texts()


async def test_adjusting_points_in_the_console_changes_the_balance_the_api_reports(console, api):
    member = await member_with_phone(api, "13800138001")
    before = (await api.data(POINTS, id=member["id"]))["member"]["points"]["available"]
    tab = await console()
    await tab.sign_in(api.key)
    await tab.open(f"/console/#/members/{member['id']}")
    card = tab.page.get_by_test_id("member-card")
    await card.wait_for()

    await card.get_by_test_id("adjust-points").fill("40")
    await card.get_by_test_id("adjust-reason").fill("goodwill after a late delivery")
    await card.get_by_test_id("adjust-submit").click()

    await (
        tab.page.get_by_test_id("points-available")
        .and_(tab.page.locator(f"[data-value='{before + 40}']"))
        .wait_for()
    )
    after = (await api.data(POINTS, id=member["id"]))["member"]["points"]["available"]
    assert after == before + 40


async def test_approving_a_held_purchase_takes_it_off_the_queue(console, api, live_client):
    till = await live_client("pos", store="S001")
    member = await member_with_phone(api, "13800138002")
    held = await buy(till, member["id"], "R-BIG", "25000.00")
    assert held["decision"]["outcome"] == "HELD"
    assert held["decision"]["reasons"] == ["LARGE_AMOUNT"]
    tab = await console()
    await tab.sign_in(api.key)
    await tab.page.get_by_test_id("nav-reviews").click()

    rows = tab.page.get_by_test_id("review-row")
    await rows.first.wait_for()
    row = rows.filter(has_text="R-BIG")
    assert await rows.count() == 1
    assert "LARGE_AMOUNT" in await row.inner_text()
    assert "25,000.00" in await row.get_by_test_id("review-amount").inner_text()
    await row.get_by_test_id("review-note").fill("receipt checked with the store")
    await row.get_by_test_id("approve").click()

    await tab.page.get_by_test_id("notice").wait_for()
    assert await rows.count() == 0
    open_now = (await api.data(REVIEWS, status="OPEN"))["fraudReviews"]["edges"]
    approved = (await api.data(REVIEWS, status="APPROVED"))["fraudReviews"]["edges"]
    assert open_now == []
    assert [e["node"]["note"] for e in approved] == ["receipt checked with the store"]


async def test_a_pos_key_sees_masked_identities_and_a_forbidden_dashboard(console, api, new_key):
    await member_with_phone(api, "13800138003")
    tab = await console()
    await tab.sign_in(await new_key("pos", store="S001"))

    # The dashboard needs admin: the refusal is shown, not swallowed.
    await tab.page.get_by_test_id("forbidden").wait_for()
    await tab.page.get_by_test_id("nav-members").click()
    search = tab.page.get_by_test_id("member-search")
    await search.fill("13800138003")
    await search.press("Enter")
    card = tab.page.get_by_test_id("member-card")
    await card.wait_for()

    shown = await card.get_by_test_id("identity-value").all_inner_texts()
    assert shown and all("*" in value for value in shown)
    assert not any("13800138003" in value for value in shown)
    assert "13800138003" not in await card.inner_text()


async def test_the_rule_form_counts_members_before_saving(console, api, live_client):
    till = await live_client("pos", store="S001")
    for n, amount in enumerate(["900.00", "40.00", "2000.00"]):
        member = await member_with_phone(api, f"1390013900{n}")
        await buy(till, member["id"], f"R-S{n}", amount)
    tab = await console()
    await tab.sign_in(api.key)
    await tab.page.get_by_test_id("nav-segments").click()
    count = tab.page.get_by_test_id("segment-preview-count")
    # The form starts with "purchase count >= 1": every buyer.
    await count.and_(tab.page.locator("[data-value='3']")).wait_for()

    await tab.page.get_by_test_id("segment-name").fill("Big spenders")
    await tab.page.get_by_test_id("rule-add-condition").click()
    await tab.page.get_by_test_id("rule-field").nth(1).select_option("TOTAL_SPEND")
    await tab.page.get_by_test_id("rule-op").nth(1).select_option("GTE")
    await tab.page.get_by_test_id("rule-values").nth(1).fill("500")
    await count.and_(tab.page.locator("[data-value='2']")).wait_for()
    rule = {
        "all": [
            {"condition": {"field": "PURCHASE_COUNT", "op": "GTE", "values": ["1"]}},
            {"condition": {"field": "TOTAL_SPEND", "op": "GTE", "values": ["500"]}},
        ]
    }
    assert (await api.data(PREVIEW, rule=rule))["previewSegment"]["totalCount"] == 2

    await tab.page.get_by_test_id("segment-save").click()
    saved = tab.page.get_by_test_id("segment-row").filter(has_text="Big spenders")
    await saved.wait_for()
    assert await saved.get_by_test_id("segment-count").inner_text() == "2"


async def test_the_console_speaks_the_browsers_language_and_remembers_a_switch(console, new_key):
    tab = await console(locale="zh-CN")
    await tab.sign_in(await new_key("admin"))
    nav = tab.page.get_by_test_id("nav-dashboard")
    assert await nav.inner_text() == "数据看板"

    await tab.page.get_by_test_id("lang-switch").click()
    assert await tab.page.get_by_test_id("nav-dashboard").inner_text() == "Dashboard"
    await tab.page.reload()
    assert await tab.page.get_by_test_id("nav-dashboard").inner_text() == "Dashboard"


async def test_the_console_requests_nothing_but_the_hub(console, api, live_url):
    member = await member_with_phone(api, "13800138004")
    tab = await console()
    await tab.sign_in(api.key)
    await tab.page.get_by_test_id("kpi-members").wait_for()
    await tab.page.get_by_test_id("nav-members").click()
    await tab.page.get_by_test_id("member-search").fill(member["id"])
    await tab.page.get_by_test_id("member-search").press("Enter")
    await tab.page.get_by_test_id("member-card").wait_for()
    await tab.page.get_by_test_id("nav-reviews").click()
    await tab.page.get_by_test_id("reviews-empty").wait_for()
    await tab.page.get_by_test_id("nav-segments").click()
    await tab.page.get_by_test_id("segment-list").wait_for()

    assert len(tab.requests) > 10
    assert [url for url in tab.requests if not url.startswith(live_url + "/")] == []
    assert any(url == live_url + "/graphql" for url in tab.requests)

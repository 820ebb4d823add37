"""The console's benefits page and Member 360's coupon wallet in Chromium: what they show is
what the API reports, and what the operator does there changes what the API reports."""

from __future__ import annotations

from tests.hub.api.members_graphql import card as pos_card
from tests.hub.api.members_graphql import created_member
from tests.hub.console.conftest import needs_chromium
from tests.hub.console.shop import member_with_phone
from tests.ledger.benefits.benefits_graphql import DEFINE, ISSUE, STATS, WALLET

pytestmark = needs_chromium

REWARDS = "query { rewards { code pointsPrice } }"
ADJUST = """
mutation A($input: AdjustInput!) { adjustPoints(input: $input) { userErrors { code } } }
"""
SEGMENT = """
mutation S($input: SegmentInput!) {
  defineSegment(input: $input) { segment { id memberCount } userErrors { code message } }
}
"""


async def define(api, code: str, **extra: object) -> dict:
    spec = {"code": code, "name": f"{code} voucher", "kind": "CASH_OFF", "value": "20"}
    spec |= {"validDays": 30, **extra}
    payload = (await api.data(DEFINE, input=spec))["defineCouponTemplate"]
    assert payload["userErrors"] == [], payload
    return payload["template"]


async def issue(api, template_id: str, member_ids: list[str], key: str) -> None:
    payload = (
        await api.data(
            ISSUE,
            input={
                "templateId": template_id,
                "memberIds": member_ids,
                "reason": "welcome",
                "idempotencyKey": key,
            },
        )
    )["issueCoupons"]
    assert payload["userErrors"] == [], payload


async def stats(api) -> dict[str, dict]:
    found = (await api.data(STATS, active=False))["couponTemplates"]
    return {t["code"]: t for t in found}


async def test_the_benefits_page_shows_the_apis_templates_stats_and_rewards(console, api):
    first = await member_with_phone(api, "13800138010")
    second = await member_with_phone(api, "13800138011")
    template = await define(api, "WELCOME-20", perMemberLimit=1)
    await define(api, "TEA-GIFT", kind="GIFT", value=None, pointsPrice=300, stock=50)
    await issue(api, template["id"], [first["id"], second["id"]], "console-issue-1")
    # Over the per-member limit: skipped, and the statistics do not move.
    await issue(api, template["id"], [first["id"]], "console-issue-2")
    expected = (await stats(api))["WELCOME-20"]["stats"]
    tab = await console()
    await tab.sign_in(api.key)
    await tab.page.get_by_test_id("nav-benefits").click()

    row = tab.page.locator("[data-testid='template-row'][data-code='WELCOME-20']")
    await row.wait_for()
    assert expected["issued"] == 2
    assert await row.get_by_test_id("stat-issued").get_attribute("data-value") == "2"
    assert await row.get_by_test_id("stat-redeemed").get_attribute("data-value") == str(
        expected["redeemed"]
    )
    assert await row.get_by_test_id("stat-expired").get_attribute("data-value") == str(
        expected["expired"]
    )
    assert await row.get_by_test_id("stat-rate").inner_text() == "0%"
    rewards = tab.page.get_by_test_id("reward-row")
    assert await rewards.count() == 1
    assert "TEA-GIFT" in await rewards.inner_text()
    assert await rewards.get_by_test_id("reward-price").get_attribute("data-value") == "300"
    assert (await api.data(REWARDS))["rewards"] == [{"code": "TEA-GIFT", "pointsPrice": 300}]


async def test_a_template_defined_and_issued_in_the_console_is_what_the_api_reports(console, api):
    member = await member_with_phone(api, "13800138012")
    for n in range(2):
        holder = await member_with_phone(api, f"1380013802{n}")
        adjust = {"memberId": holder["id"], "points": 500, "idempotencyKey": f"s{n}", "reason": "x"}
        await api.data(ADJUST, input=adjust)
    rule = {"condition": {"field": "POINTS_BALANCE", "op": "GTE", "values": ["500"]}}
    segment = (await api.data(SEGMENT, input={"name": "Point holders", "rule": rule}))[
        "defineSegment"
    ]["segment"]
    assert segment["memberCount"] == 2
    tab = await console()
    await tab.sign_in(api.key)
    await tab.open("/console/#/benefits")
    page = tab.page
    await page.get_by_test_id("template-code").fill("SPRING-10")
    await page.get_by_test_id("template-name").fill("Spring 10% off")
    await page.get_by_test_id("template-kind").select_option("PERCENT_OFF")
    await page.get_by_test_id("template-value").fill("90")
    await page.get_by_test_id("template-min-spend").fill("100")
    await page.get_by_test_id("template-valid-days").fill("14")
    await page.get_by_test_id("template-stock").fill("10")
    await page.get_by_test_id("template-save").click()
    row = page.locator("[data-testid='template-row'][data-code='SPRING-10']")
    await row.wait_for()

    await page.get_by_test_id("issue-template").select_option(
        await row.get_attribute("data-template-id")
    )
    await page.get_by_test_id("issue-members").fill(member["id"])
    await page.get_by_test_id("issue-reason").fill("spring launch")
    await page.get_by_test_id("issue-submit").click()
    await page.locator("[data-testid='issue-result'][data-issued='1']").wait_for()
    await row.get_by_test_id("stat-issued").and_(page.locator("[data-value='1']")).wait_for()

    # The form starts afresh once the lists reload.
    await page.get_by_test_id("issue-template").select_option(
        await row.get_attribute("data-template-id")
    )
    await page.get_by_test_id("issue-target").select_option("segment")
    await page.get_by_test_id("issue-segment").select_option(segment["id"])
    await page.get_by_test_id("issue-reason").fill("spring launch, point holders")
    await page.get_by_test_id("issue-submit").click()
    await page.locator("[data-testid='issue-result'][data-issued='2']").wait_for()
    await row.get_by_test_id("stat-issued").and_(page.locator("[data-value='3']")).wait_for()

    defined = (await stats(api))["SPRING-10"]
    assert defined["stock"] == 7
    assert defined["stats"]["issued"] == 3
    wallet = (await api.data(WALLET, id=member["id"]))["member"]["coupons"]
    assert [e["node"]["template"]["code"] for e in wallet["edges"]] == ["SPRING-10"]


async def test_member_360_lists_the_coupon_wallet_and_voids_a_coupon(console, api, live_url):
    member = await member_with_phone(api, "13800138013")
    template = await define(api, "SORRY-5", value="5")
    await issue(api, template["id"], [member["id"]], "console-issue-3")
    wallet = (await api.data(WALLET, id=member["id"]))["member"]["coupons"]
    coupon = wallet["edges"][0]["node"]
    tab = await console()
    await tab.sign_in(api.key)
    await tab.open(f"/console/#/members/{member['id']}")

    row = tab.page.get_by_test_id("coupon-row")
    await row.wait_for()
    assert await row.count() == 1
    assert await row.get_attribute("data-coupon-id") == coupon["id"]
    assert await row.get_by_test_id("coupon-code").inner_text() == coupon["code"]
    assert await row.get_by_test_id("coupon-status").get_attribute("data-value") == "ACTIVE"
    await row.get_by_test_id("coupon-void-reason").fill("issued to the wrong member")
    await row.get_by_test_id("coupon-void").click()

    await (
        row.get_by_test_id("coupon-status").and_(tab.page.locator("[data-value='VOID']")).wait_for()
    )
    after = (await api.data(WALLET, id=member["id"]))["member"]["coupons"]["edges"]
    assert [e["node"]["status"] for e in after] == ["VOID"]
    # Neither page asked any host but the hub.
    await tab.page.get_by_test_id("nav-benefits").click()
    await tab.page.get_by_test_id("template-list").wait_for()
    assert [url for url in tab.requests if not url.startswith(live_url + "/")] == []


TAG = """
mutation T($input: TagInput!) { defineTag(input: $input) { tag { id } userErrors { code } } }
"""
MERGE = """
mutation M($s: ID!, $m: ID!) {
  mergeMembers(survivorId: $s, mergedId: $m, reason: "same person") {
    merge { id } userErrors { code message }
  }
}
"""
MEMBER = """
query Q($id: ID!) { member(id: $id) { tags { tag { name } } merges { id undoneAt } } }
"""


async def test_member_360_tags_a_member_and_undoes_a_merge_as_the_api_then_reports(console, api):
    survivor = await member_with_phone(api, "13800138030")
    merged = await created_member(api, "POS", pos_card("C-0031"))
    await api.data(TAG, input={"name": "VIP guest"})
    merge = (await api.data(MERGE, s=survivor["id"], m=merged["id"]))["mergeMembers"]
    assert merge["userErrors"] == [], merge
    tab = await console()
    await tab.sign_in(api.key)
    await tab.open(f"/console/#/members/{survivor['id']}")
    card = tab.page.get_by_test_id("member-card")
    await card.wait_for()

    await card.get_by_test_id("tag-select").select_option(label="VIP guest")
    await card.get_by_test_id("tag-add").click()
    await card.get_by_test_id("member-tag").filter(has_text="VIP guest").wait_for()
    row = card.get_by_test_id("merge-row")
    await row.get_by_test_id("unmerge-reason").fill("different people, same shared phone")
    await row.get_by_test_id("unmerge").click()
    await tab.page.get_by_test_id("unmerge").wait_for(state="detached")

    seen = (await api.data(MEMBER, id=survivor["id"]))["member"]
    assert [t["tag"]["name"] for t in seen["tags"]] == ["VIP guest"]
    assert [m["id"] for m in seen["merges"]] == [merge["merge"]["id"]]
    assert seen["merges"][0]["undoneAt"] is not None

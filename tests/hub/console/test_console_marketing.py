"""The console's earning-rules and campaigns pages and Member 360's campaign touches in
Chromium: every figure they show is the API's, and what the operator does there (define or
end a promotion, replace the tier ladder, start or pause a campaign) is what the API then
reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlalchemy import text

from tests.campaigns.campaigns_graphql import REPORT, campaign_input, create
from tests.campaigns.conftest import buy, evaluate, people  # noqa: F401
from tests.hub.console.conftest import needs_chromium
from tests.hub.console.shop import buy as till_buy
from tests.hub.console.shop import member_with_phone
from tests.ledger.benefits.benefits_graphql import global_id
from tests.ledger.benefits.promotions_graphql import (
    DEFINE_TIERS,
    PROMOTIONS,
    TIERS,
    define_promotion,
)

pytestmark = needs_chromium

LADDER = [
    {"code": "REGULAR", "name": "Regular", "threshold": "0", "multiplier": "1"},
    {"code": "SILVER", "name": "Silver", "threshold": "500", "multiplier": "1.5"},
    {
        "code": "GOLD",
        "name": "Gold",
        "threshold": "2000",
        "multiplier": "2",
        "payPercent": "95",
        "perks": ["专属客服", "free parking"],
    },
]

DRY_RUN = """
query DryRun($change: RuleChangeInput!, $from: Date!, $to: Date!) {
  dryRunRuleChange(change: $change, from: $from, to: $to) {
    pointsNow pointsProposed pointsDelta liabilityDelta membersAffected purchasesReplayed
    tierMoves { fromTier toTier members }
    deltaByTier { key count }
  }
}
"""

CAMPAIGN_STATUS = "query S($id: ID!) { campaign(id: $id) { status } }"

TOUCHES = """
query T($id: ID!) {
  member(id: $id) {
    campaignTouches { arm assignedAt reachedAt channel outcome campaign { id name } }
  }
}
"""


async def define_ladder(api) -> list[dict]:
    payload = (await api.data(DEFINE_TIERS, tiers=LADDER))["defineTiers"]
    assert payload["userErrors"] == [], payload
    return payload["tiers"]


async def test_a_promotion_defined_and_ended_in_the_console_is_what_the_api_reports(console, api):
    await define_ladder(api)
    member = await member_with_phone(api, "13800138040")
    running = await define_promotion(api, "Member day", daysOfMonth=[8, 18], stackable=True)
    assert running["userErrors"] == [], running
    await till_buy(api, member["id"], "R-40", "300.00")
    tab = await console()
    await tab.sign_in(api.key)
    await tab.page.get_by_test_id("nav-rules").click()
    page = tab.page

    await page.get_by_test_id("promo-name").fill("Gold weekend")
    await page.get_by_test_id("promo-kind").select_option("BONUS_POINTS")
    await page.get_by_test_id("promo-value").fill("50")
    await page.get_by_test_id("promo-days-of-week").get_by_label("Sat").check()
    await page.get_by_test_id("promo-days-of-week").get_by_label("Sun").check()
    await page.get_by_test_id("promo-tiers").get_by_label("Gold").check()
    await page.get_by_test_id("promo-channels").get_by_label("POS").check()
    await page.get_by_test_id("promo-categories").fill("tea, cakes")
    await page.get_by_test_id("promo-save").click()
    row = page.locator("[data-testid='promotion-row'][data-name='Gold weekend']")
    await row.wait_for()

    listed = {p["name"]: p for p in (await api.data(PROMOTIONS))["promotions"]}
    made = listed["Gold weekend"]
    assert await row.get_attribute("data-promotion-id") == made["id"]
    assert (made["kind"], Decimal(made["value"])) == ("BONUS_POINTS", Decimal("50"))
    assert made["daysOfWeek"] == [6, 7]
    assert made["tierCodes"] == ["GOLD"]
    assert made["channels"] == ["POS"]
    assert made["categories"] == ["tea", "cakes"]
    assert made["endsAt"] is None and made["stackable"] is False
    value = row.get_by_test_id("promotion-value")
    assert await value.get_attribute("data-kind") == "BONUS_POINTS"
    assert await value.get_attribute("data-value") == made["value"]
    assert await row.get_by_test_id("promotion-status").get_attribute("data-value") == "RUNNING"
    text = await row.inner_text()
    assert "Sat, Sun" in text and "GOLD" in text and "tea, cakes" in text
    # The first promotion's figures are the API's too.
    first = page.locator("[data-testid='promotion-row'][data-name='Member day']")
    api_first = listed["Member day"]
    assert await first.get_by_test_id("promotion-points").get_attribute("data-value") == str(
        api_first["pointsAwarded"]
    )
    assert await first.get_by_test_id("promotion-stackable").get_attribute("data-value") == "true"
    assert "Days of the month: 8, 18" in await first.inner_text()
    await tab.screenshot("earning-rules")

    await row.get_by_test_id("promotion-end").click()
    await (
        row.get_by_test_id("promotion-status").and_(page.locator("[data-value='ENDED']")).wait_for()
    )
    assert await row.get_by_test_id("promotion-end").count() == 0
    ended = {p["name"]: p for p in (await api.data(PROMOTIONS))["promotions"]}["Gold weekend"]
    assert ended["endsAt"] is not None
    now = datetime.now(UTC).isoformat()
    assert "Gold weekend" not in [
        p["name"] for p in (await api.data(PROMOTIONS, at=now))["promotions"]
    ]


async def test_the_tier_ladder_edited_in_the_console_is_what_the_api_reports(console, api):
    await define_ladder(api)
    tab = await console()
    await tab.sign_in(api.key)
    await tab.open("/console/#/rules")
    page = tab.page
    gold = page.locator("[data-testid='tier-row'][data-code='GOLD']")
    await gold.wait_for()
    assert await gold.get_by_test_id("tier-pay").inner_text() == "95% (5% off)"
    assert await gold.get_by_test_id("tier-perks").inner_text() == "专属客服\nfree parking"

    await page.get_by_test_id("ladder-edit").click()
    rows = page.get_by_test_id("ladder-row")
    assert await rows.count() == 3
    silver = rows.nth(1)
    await silver.get_by_test_id("ladder-multiplier").fill("1.3")
    await silver.get_by_test_id("ladder-pay-percent").fill("98")
    await page.get_by_test_id("ladder-add").click()
    black = rows.nth(3)
    await black.get_by_test_id("ladder-code").fill("BLACK")
    await black.get_by_test_id("ladder-name").fill("Black")
    await black.get_by_test_id("ladder-threshold").fill("10000")
    await black.get_by_test_id("ladder-multiplier").fill("3")
    await black.get_by_test_id("ladder-pay-percent").fill("90")
    await black.get_by_test_id("ladder-perks").fill("lounge; 生日礼")
    await page.get_by_test_id("ladder-save").click()
    await page.locator("[data-testid='tier-row'][data-code='BLACK']").wait_for()

    tiers = (await api.data(TIERS))["tiers"]
    assert [t["code"] for t in tiers] == ["REGULAR", "SILVER", "GOLD", "BLACK"]
    by_code = {t["code"]: t for t in tiers}
    assert Decimal(by_code["SILVER"]["pointsMultiplier"]) == Decimal("1.3")
    assert Decimal(by_code["SILVER"]["payPercent"]) == Decimal("98")
    assert Decimal(by_code["BLACK"]["qualifyingSpend"]) == Decimal("10000")
    assert by_code["BLACK"]["perks"] == ["lounge", "生日礼"]
    assert by_code["GOLD"]["perks"] == ["专属客服", "free parking"]
    for tier in tiers:
        row = page.locator(f"[data-testid='tier-row'][data-code='{tier['code']}']")
        assert (
            await row.get_by_test_id("tier-threshold").get_attribute("data-value")
            == (tier["qualifyingSpend"])
        )
        assert (
            await row.get_by_test_id("tier-multiplier").get_attribute("data-value")
            == (tier["pointsMultiplier"])
        )
        assert await row.get_by_test_id("tier-pay").get_attribute("data-value") == (
            tier["payPercent"] or ""
        )


async def test_a_dry_run_shows_the_apis_report_for_the_same_change_and_charts_it(console, api):
    tiers = await define_ladder(api)
    promotion = (await define_promotion(api, "Double points", value="2"))["promotion"]
    members = []
    for n, amount in enumerate(["120.00", "800.00", "2600.00", "45.50"]):
        members.append(await member_with_phone(api, f"1380013805{n}"))
        await till_buy(api, members[-1]["id"], f"R-5{n}", amount)
    # Bought after the upgrades the first purchases earned, at the tiers they reached.
    for n, member in enumerate(members):
        await till_buy(api, member["id"], f"R-6{n}", "88.00", minutes_ago=0)
    tab = await console()
    await tab.sign_in(api.key)
    await tab.open("/console/#/rules")
    page = tab.page
    await page.get_by_test_id("dry-run").wait_for()

    await page.get_by_test_id("dry-rate").fill("5")
    await page.get_by_test_id("dry-remove").get_by_label("Double points").check()
    await page.get_by_test_id("dry-new-ladder").check()
    silver = page.get_by_test_id("dry-ladder-row").nth(1)
    await silver.get_by_test_id("dry-ladder-threshold").fill("1000")
    gold = page.get_by_test_id("dry-ladder-row").nth(2)
    await gold.get_by_test_id("dry-ladder-multiplier").fill("6")
    await page.get_by_test_id("dry-add-promotion").click()
    await page.get_by_test_id("dry-promo-0-name").fill("Cake bonus")
    await page.get_by_test_id("dry-promo-0-kind").select_option("BONUS_POINTS")
    await page.get_by_test_id("dry-promo-0-value").fill("30")
    await page.get_by_test_id("dry-promo-0-starts").fill("2020-01-01T00:00")
    await page.get_by_test_id("dry-run").click()
    result = page.get_by_test_id("dry-result")
    await result.wait_for()

    ladder = [
        {
            "code": t["code"],
            "name": t["name"],
            "threshold": "1000" if t["code"] == "SILVER" else t["qualifyingSpend"],
            "multiplier": "6" if t["code"] == "GOLD" else t["pointsMultiplier"],
            "payPercent": t["payPercent"],
            "perks": t["perks"],
        }
        for t in tiers
    ]
    # The browser's clock is at UTC-12: its midnight of 1 January 2020 is noon UTC.
    cake = {"name": "Cake bonus", "kind": "BONUS_POINTS", "value": "30"}
    cake |= {"startsAt": "2020-01-01T12:00:00Z", "stackable": False}
    change = {
        "pointsPer100Yuan": 5,
        "removePromotionIds": [promotion["id"]],
        "tiers": ladder,
        "addPromotions": [cake],
    }
    period = {
        "from": await page.get_by_test_id("dry-from").input_value(),
        "to": await page.get_by_test_id("dry-to").input_value(),
    }
    expected = (await api.data(DRY_RUN, change=change, **period))["dryRunRuleChange"]
    assert expected["purchasesReplayed"] == 8
    assert expected["pointsDelta"] != 0
    assert len(expected["deltaByTier"]) > 1 and expected["tierMoves"] != []

    async def shown(testid: str) -> str | None:
        return await result.get_by_test_id(testid).get_attribute("data-value")

    assert await shown("dry-points-now") == str(expected["pointsNow"])
    assert await shown("dry-points-proposed") == str(expected["pointsProposed"])
    assert await shown("dry-points-delta") == str(expected["pointsDelta"])
    assert await shown("dry-liability") == expected["liabilityDelta"]
    assert await shown("dry-members-affected") == str(expected["membersAffected"])
    rows = result.get_by_test_id("dry-tier-row")
    assert [
        (
            await r.get_attribute("data-tier"),
            await r.get_by_test_id("dry-tier-delta").get_attribute("data-value"),
        )
        for r in await rows.all()
    ] == [(d["key"], str(d["count"])) for d in expected["deltaByTier"]]
    moves = result.get_by_test_id("dry-move-row")
    assert [
        (
            await r.get_attribute("data-from"),
            await r.get_attribute("data-to"),
            await r.get_by_test_id("dry-move-members").get_attribute("data-value"),
        )
        for r in await moves.all()
    ] == [(m["fromTier"], m["toTier"], str(m["members"])) for m in expected["tierMoves"]]
    # The chart draws one bar per tier, its height following the API's delta.
    bars = result.get_by_test_id("dry-chart").locator("rect[data-value]")
    assert [
        (await b.get_attribute("data-key"), await b.get_attribute("data-value"))
        for b in await bars.all()
    ] == [(d["key"], str(d["count"])) for d in expected["deltaByTier"]]
    heights = [float(await b.get_attribute("height") or 0) for b in await bars.all()]
    counts = [abs(d["count"]) for d in expected["deltaByTier"]]
    biggest = max(counts)
    for height, count in zip(heights, counts, strict=True):
        assert abs(height - heights[counts.index(biggest)] * count / biggest) < 0.01
    # Nothing was written: today's rules stand.
    assert [p["name"] for p in (await api.data(PROMOTIONS))["promotions"]] == ["Double points"]
    await tab.screenshot("dry-run", page.locator("section.card").filter(has=result))


ARMS = [
    {"name": "points", "weight": 2, "action": {"awardPoints": 20}},
    {"name": "holdout", "weight": 1},
]


async def test_a_campaigns_arm_report_and_uplift_are_the_apis(
    console,
    api,
    people,  # noqa: F811
    buy,  # noqa: F811
    evaluate,  # noqa: F811
    run_in_transaction,
):
    now = datetime.now(UTC).replace(microsecond=0)
    ids = await people(60, at=now)
    campaign = await create(api, campaign_input("Spring points", arms=ARMS))
    assert (await evaluate(now)).assigned == 60
    rows = await run_in_transaction(
        lambda s: s.execute(text("SELECT member_id, arm_position FROM campaign_touches"))
    )
    arm_of = dict(rows.all())
    # Half the points arm buys within the window, a fifth of the holdout; some buy twice.
    converting = [m for m in ids if m % (2 if arm_of[m] == 0 else 5) == 0]
    await buy(
        [(m, Decimal("100.50"), now + timedelta(days=1)) for m in converting]
        + [(m, Decimal("66.00"), now + timedelta(days=2)) for m in converting[::3]]
    )
    expected = (await api.data(REPORT, id=campaign))["campaign"]
    assert expected["report"]["uplift"] is not None
    tab = await console()
    await tab.sign_in(api.key)
    await tab.page.get_by_test_id("nav-campaigns").click()
    row = tab.page.locator(f"[data-testid='campaign-row'][data-campaign-id='{campaign}']")
    await row.wait_for()
    assert await row.get_by_test_id("campaign-status").get_attribute("data-value") == "FINISHED"
    assert await row.get_by_test_id("campaign-trigger").get_attribute("data-value") == "ONCE"
    assert await row.get_by_test_id("campaign-audience").inner_text() == "Every active member"
    await row.get_by_test_id("campaign-open").click()
    detail = tab.page.get_by_test_id("campaign-detail")
    await detail.wait_for()

    for arm in expected["report"]["arms"]:
        shown = detail.locator(f"[data-testid='arm-row'][data-arm='{arm['name']}']")
        for testid, field in [
            ("arm-weight", "weight"),
            ("arm-members", "members"),
            ("arm-reached", "reached"),
            ("arm-converted", "converted"),
            ("arm-coupons", "couponsRedeemed"),
            ("arm-points", "pointsAwarded"),
        ]:
            assert await shown.get_by_test_id(testid).get_attribute("data-value") == str(
                arm[field]
            ), (arm["name"], field)
        assert (
            await shown.get_by_test_id("arm-revenue").get_attribute("data-value")
            == (arm["revenue"])
        )
        rate = await shown.get_by_test_id("arm-rate").get_attribute("data-value")
        assert float(rate or "nan") == arm["conversionRate"]
        assert (await shown.get_by_test_id("arm-holdout").count() == 1) is arm["holdout"]
    uplift = detail.get_by_test_id("campaign-uplift")
    assert float(await uplift.get_attribute("data-value") or "nan") == expected["report"]["uplift"]
    assert await uplift.inner_text() == f"{expected['report']['uplift']:+.2f} pp"
    p_value = await detail.get_by_test_id("campaign-p-value").get_attribute("data-value")
    assert float(p_value or "nan") == expected["report"]["pValue"]
    await tab.screenshot("campaign-report")

    # The member's touches on Member 360 are the API's.
    member = global_id("Member", ids[0])
    touches = (await api.data(TOUCHES, id=member))["member"]["campaignTouches"]
    assert len(touches) == 1
    touch = touches[0]
    await tab.open(f"/console/#/members/{member}")
    row = tab.page.get_by_test_id("touch-row")
    await row.wait_for()
    assert await row.count() == 1
    assert await row.get_attribute("data-campaign-id") == campaign
    assert await row.get_by_test_id("touch-campaign").inner_text() == "Spring points"
    assert await row.get_by_test_id("touch-arm").inner_text() == touch["arm"]
    assert (
        await row.get_by_test_id("touch-outcome").get_attribute("data-value") == (touch["outcome"])
    )
    assert await row.get_by_test_id("touch-channel").get_attribute("data-value") == (
        touch["channel"] or ""
    )
    assert (
        await row.get_by_test_id("touch-assigned").get_attribute("data-value")
        == (touch["assignedAt"])
    )
    assert await row.get_by_test_id("touch-reached").get_attribute("data-value") == (
        touch["reachedAt"] or ""
    )
    touches_card = tab.page.locator("section.card").filter(has=row)
    await tab.screenshot("member-360-touches", touches_card)
    await row.get_by_test_id("touch-campaign").click()
    await tab.page.get_by_test_id("campaign-detail").wait_for()

    # In Chinese, the same figures.
    zh = await console(locale="zh-CN")
    await zh.sign_in(api.key)
    await zh.open(f"/console/#/campaigns/{campaign}")
    uplift = zh.page.get_by_test_id("campaign-uplift")
    await uplift.wait_for()
    assert await uplift.inner_text() == f"{expected['report']['uplift']:+.2f} 个百分点"
    assert await zh.page.get_by_test_id("nav-campaigns").inner_text() == "营销活动"
    await zh.screenshot("campaign-report-zh")


async def test_starting_and_pausing_a_campaign_in_the_console_changes_its_status(console, api):
    campaign = await create(
        api, campaign_input("Birthday treat", "BIRTHDAY", triggerDays=3), start=False
    )
    # Two more beside it, for the list's sake.
    await create(api, campaign_input("Win-back", "INACTIVE_DAYS", triggerDays=90), start=False)
    await create(api, campaign_input("Tea lovers", "DAYS_AFTER_PURCHASE", triggerDays=7))
    tab = await console()
    await tab.sign_in(api.key)
    await tab.open("/console/#/campaigns")
    row = tab.page.locator(f"[data-testid='campaign-row'][data-campaign-id='{campaign}']")
    await row.wait_for()
    assert await row.get_by_test_id("campaign-status").get_attribute("data-value") == "DRAFT"
    assert await row.get_by_test_id("campaign-pause").count() == 0
    await row.get_by_test_id("campaign-start").click()
    await (
        row.get_by_test_id("campaign-status")
        .and_(tab.page.locator("[data-value='RUNNING']"))
        .wait_for()
    )
    assert (await api.data(CAMPAIGN_STATUS, id=campaign))["campaign"]["status"] == "RUNNING"
    await tab.screenshot("campaigns")

    await row.get_by_test_id("campaign-open").click()
    detail = tab.page.get_by_test_id("campaign-detail")
    await detail.get_by_test_id("campaign-pause").click()
    await (
        detail.get_by_test_id("campaign-status")
        .and_(tab.page.locator("[data-value='PAUSED']"))
        .wait_for()
    )
    assert (await api.data(CAMPAIGN_STATUS, id=campaign))["campaign"]["status"] == "PAUSED"
    await detail.get_by_test_id("campaign-start").click()
    await (
        detail.get_by_test_id("campaign-status")
        .and_(tab.page.locator("[data-value='RUNNING']"))
        .wait_for()
    )
    assert (await api.data(CAMPAIGN_STATUS, id=campaign))["campaign"]["status"] == "RUNNING"

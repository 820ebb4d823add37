"""Templates and issuing through the API: by member IDs, to a segment, idempotent by key,
within stock and the per-member limit, also when 20 issues race."""

from __future__ import annotations

import asyncio

from tests.ledger.benefits.benefits_graphql import (
    DEACTIVATE,
    DEFINE,
    STATS,
    define,
    global_id,
    issue,
    template_input,
    wallet,
)


async def test_an_operator_defines_templates_of_every_kind_and_bad_ones_are_refused(
    admin, graphql_client
):
    cash = await define(
        admin,
        "bday-50",
        categories=["dairy"],
        channels=["POS", "MINI_PROGRAM"],
        storeIds=["S001"],
        stock=100,
        perMemberLimit=1,
        pointsPrice=500,
    )
    assert cash["code"] == "BDAY-50"
    assert (cash["kind"], cash["value"], cash["minSpend"]) == ("CASH_OFF", "50.00", "200.00")
    assert cash["channels"] == ["POS", "MINI_PROGRAM"] and cash["storeIds"] == ["S001"]
    assert (cash["stock"], cash["perMemberLimit"], cash["pointsPrice"]) == (100, 1, 500)
    for code, kind, value in [
        ("P95", "PERCENT_OFF", "95"),
        ("GIFT", "GIFT", None),
        ("X2", "POINTS_MULTIPLIER", "2"),
        ("SHIP", "FREE_SHIPPING", None),
    ]:
        made = await define(admin, code, kind=kind, value=value, minSpend=None)
        assert made["kind"] == kind

    refusals = [
        (template_input("BDAY-50"), ["input", "code"]),
        (template_input("P100", kind="PERCENT_OFF", value="100"), ["input", "value"]),
        (template_input("G1", kind="GIFT", value="5"), ["input", "value"]),
        (template_input("X1", kind="POINTS_MULTIPLIER", value="1"), ["input", "value"]),
        (template_input("C0", value=None), ["input", "value"]),
        (template_input("D0", validDays=0), ["input", "validDays"]),
        (template_input("S-1", stock=-1), ["input", "stock"]),
        (template_input("L0", perMemberLimit=0), ["input", "perMemberLimit"]),
    ]
    for values, field in refusals:
        payload = (await admin.data(DEFINE, input=values))["defineCouponTemplate"]
        assert payload["template"] is None
        assert [(e["code"], e["field"]) for e in payload["userErrors"]] == [
            ("INVALID_INPUT", field)
        ], values

    till = await graphql_client("pos", store="S001")
    payload = (await till.data(DEFINE, input=template_input("POS-1")))["defineCouponTemplate"]
    assert [e["code"] for e in payload["userErrors"]] == ["FORBIDDEN"]
    codes = {t["code"] for t in (await admin.data(STATS))["couponTemplates"]}
    assert codes == {"BDAY-50", "P95", "GIFT", "X2", "SHIP"}


async def test_issue_to_member_ids_gives_each_one_active_coupon_and_a_replay_issues_nothing(
    admin, members, count_rows
):
    template = await define(admin, "WELCOME-20", value="20", minSpend="100", validDays=7)
    first, second, third = await members(3)

    issued = await issue(admin, template["id"], "welcome-1", members=[first, second, third])
    again = await issue(admin, template["id"], "welcome-1", members=[third, second, first])

    assert (issued["issued"], issued["skipped"], issued["replayed"]) == (3, 0, False)
    assert (again["issued"], again["skipped"], again["replayed"]) == (3, 0, True)
    assert await count_rows("SELECT count(*) FROM coupons") == 3
    assert await count_rows("SELECT count(*) FROM coupon_events WHERE kind = 'ISSUED'") == 3
    coupons = (await wallet(admin, first))["coupons"]
    assert coupons["totalCount"] == 1
    coupon = coupons["edges"][0]["node"]
    assert (coupon["status"], coupon["source"], coupon["template"]) == (
        "ACTIVE",
        "MANUAL",
        {"code": "WELCOME-20"},
    )
    assert coupon["member"]["id"] == global_id("Member", first)
    assert len(coupon["code"]) == 16


async def test_the_same_key_for_another_request_is_a_conflict_and_writes_nothing(
    admin, members, count_rows
):
    template = await define(admin, "K-1")
    first, second = await members(2)
    await issue(admin, template["id"], "k", members=[first])

    conflict = await issue(admin, template["id"], "k", members=[second])

    assert [e["code"] for e in conflict["userErrors"]] == ["IDEMPOTENCY_CONFLICT"]
    assert await count_rows("SELECT count(*) FROM coupons") == 1


async def test_issue_to_a_segment_skips_members_not_active(
    admin, members, segment, run_in_transaction, count_rows
):
    from sqlalchemy import text

    template = await define(admin, "SEG-1")
    ids = await members(50)
    await run_in_transaction(
        lambda s: s.execute(
            text("UPDATE members SET status = 'ERASED' WHERE id = :m"), {"m": ids[0]}
        )
    )
    segment_id = await segment("sleepers", ids)

    issued = await issue(admin, template["id"], "seg-1", segment=segment_id)

    assert (issued["issued"], issued["skipped"]) == (49, 1)
    assert (
        await count_rows(
            "SELECT count(DISTINCT member_id) FROM coupons WHERE member_id <> :m", m=ids[0]
        )
        == 49
    )
    missing = await issue(admin, template["id"], "seg-2", segment=999_999)
    assert [(e["code"], e["field"]) for e in missing["userErrors"]] == [
        ("NOT_FOUND", ["input", "segmentId"])
    ]


async def test_per_member_limit_counts_live_coupons_and_stock_runs_out(admin, members):
    template = await define(admin, "LIMITED", stock=5, perMemberLimit=2)
    ids = await members(4)

    rounds = [await issue(admin, template["id"], f"round-{n}", members=ids) for n in range(3)]

    # Round one: 4 issued, 1 left; round two: 1 issued (lowest ID); round three: none left.
    assert [(r["issued"], r["skipped"]) for r in rounds] == [(4, 0), (1, 3), (0, 4)]
    stats = {t["code"]: t for t in (await admin.data(STATS))["couponTemplates"]}
    assert stats["LIMITED"]["stock"] == 0
    assert stats["LIMITED"]["stats"]["issued"] == 5

    unlimited_stock = await define(admin, "ONE-EACH", perMemberLimit=1)
    first = await issue(admin, unlimited_stock["id"], "one-1", members=ids)
    second = await issue(admin, unlimited_stock["id"], "one-2", members=ids)
    assert [(r["issued"], r["skipped"]) for r in (first, second)] == [(4, 0), (0, 4)]


async def test_20_concurrent_issues_never_exceed_stock_nor_the_per_member_limit(
    admin, members, count_rows
):
    template = await define(admin, "RUSH", stock=30, perMemberLimit=1)
    ids = await members(40)

    results = await asyncio.gather(
        *(issue(admin, template["id"], f"rush-{n}", members=ids[n : n + 20]) for n in range(20))
    )

    assert all(r["userErrors"] == [] for r in results)
    assert sum(r["issued"] for r in results) == 30
    assert await count_rows("SELECT count(*) FROM coupons") == 30
    assert (
        await count_rows(
            "SELECT count(*) FROM (SELECT member_id FROM coupons GROUP BY member_id"
            " HAVING count(*) > 1) doubled"
        )
        == 0
    )
    assert await count_rows("SELECT stock FROM coupon_templates WHERE code = 'RUSH'") == 0


async def test_a_deactivated_template_issues_nothing(admin, members):
    template = await define(admin, "OLD")
    (member,) = await members(1)

    deactivated = (await admin.data(DEACTIVATE, id=template["id"]))["deactivateCouponTemplate"]
    refused = await issue(admin, template["id"], "old-1", members=[member])

    assert deactivated["template"]["active"] is False
    assert [(e["code"], e["field"]) for e in refused["userErrors"]] == [
        ("INVALID_INPUT", ["input", "templateId"])
    ]
    assert (await admin.data(STATS, active=True))["couponTemplates"] == []

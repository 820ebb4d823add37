"""The tier ladder replaced at run time: validated, priced by, shown at the till."""

from __future__ import annotations

from datetime import timedelta

from tests.hub.api.members_graphql import card, created_member
from tests.hub.api.purchases_graphql import record
from tests.ledger.benefits.promotions_graphql import DEFINE_TIERS, TIERS, breakdown
from tests.statements import counted_statements

LADDER = [
    {"code": "MEMBER", "name": "Member", "threshold": "0", "multiplier": "1"},
    {
        "code": "GOLD",
        "name": "Gold",
        "threshold": "500",
        "multiplier": "2",
        "payPercent": "95",
        "perks": ["专属客服", "free parking"],
    },
]
LOOKUP = """
query L($identity: IdentityInput!) { member(identity: $identity) {
  id tier { code payPercent perks pointsMultiplier } points { available }
} }
"""


async def test_a_new_ladder_prices_upgrades_and_shows_at_the_till(
    admin, graphql_client, engine, app, clock, count_rows
):
    till = await graphql_client("pos", store="S001")
    member = await created_member(admin, "POS", card("C-7"))

    defined = (await admin.data(DEFINE_TIERS, tiers=LADDER))["defineTiers"]
    first = await record(till, "T-1", "600.00", memberId=member["id"])
    clock.advance(timedelta(hours=1))
    second = await record(till, "T-2", "100.00", memberId=member["id"], at=clock.now())
    identity = {"type": "POS_CARD", "namespace": "pos-chain", "value": "C-7"}
    with counted_statements(engine, app.state.hub.reads) as statements:
        looked_up = (await till.data(LOOKUP, identity=identity))["member"]
    listed = (await till.data(TIERS))["tiers"]

    assert defined["userErrors"] == []
    assert [t["code"] for t in defined["tiers"]] == ["MEMBER", "GOLD"]
    # The first purchase is priced at the lowest tier and reaches GOLD; the next earns x2.
    assert (first["pointsEarned"], second["pointsEarned"]) == (60, 20)
    assert await breakdown(till, "T-2") == {"BASE": 10, "TIER": 10}
    assert looked_up["tier"] == {
        "code": "GOLD",
        "payPercent": "95.00",
        "perks": ["专属客服", "free parking"],
        "pointsMultiplier": "2.00",
    }
    # The tier's discount and perks come in the lookup's one statement.
    assert len([s for s in statements if "api_clients" not in s]) == 1
    assert listed[1] == {
        "code": "GOLD",
        "name": "Gold",
        "rank": 1,
        "qualifyingSpend": "500.00",
        "pointsMultiplier": "2.00",
        "payPercent": "95.00",
        "perks": ["专属客服", "free parking"],
    }
    assert await count_rows("SELECT count(*) FROM tier_ladder") == 2


def ladder(**changes: object) -> list[dict[str, object]]:
    """LADDER with the GOLD tier changed."""
    return [LADDER[0], {**LADDER[1], **changes}]


async def test_over_http_bad_ladders_are_refused_with_nothing_written(live_client, count_rows):
    operator = await live_client("admin")
    till = await live_client("pos", store="S001")
    cases = [
        ([{**LADDER[0], "threshold": "10"}, LADDER[1]], ["tiers", "0", "threshold"]),
        (ladder(threshold="0"), ["tiers", "1", "threshold"]),
        (ladder(code="MEMBER"), ["tiers", "1", "code"]),
        (ladder(code="gold tier"), ["tiers", "1", "code"]),
        (ladder(multiplier="0"), ["tiers", "1", "multiplier"]),
        (ladder(multiplier="-1"), ["tiers", "1", "multiplier"]),
        (ladder(payPercent="0"), ["tiers", "1", "payPercent"]),
        (ladder(payPercent="100.5"), ["tiers", "1", "payPercent"]),
        (ladder(payPercent="NaN"), ["tiers", "1", "payPercent"]),
        (ladder(name="a\x00b"), ["tiers", "1", "name"]),
        (ladder(perks=["x" * 101]), ["tiers", "1", "perks"]),
        ([], ["tiers"]),
    ]
    for tiers, field in cases:
        answer = (await operator.data(DEFINE_TIERS, tiers=tiers))["defineTiers"]
        assert [e["code"] for e in answer["userErrors"]] == ["INVALID_INPUT"], tiers
        assert answer["userErrors"][0]["field"] == field, (tiers, answer["userErrors"])
    refused = (await till.data(DEFINE_TIERS, tiers=LADDER))["defineTiers"]

    assert [e["code"] for e in refused["userErrors"]] == ["FORBIDDEN"]
    assert await count_rows("SELECT count(*) FROM tier_ladder") == 0
    assert await count_rows("SELECT count(*) FROM earning_rules") == 0

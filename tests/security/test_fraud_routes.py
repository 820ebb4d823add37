"""Fraud rules the identity graph could route around, over real HTTP."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from tests.hub.api.members_graphql import card, created_member, identify, phone
from tests.hub.api.points_graphql import adjust, points_of, redeem

LINK = """
mutation Link($id: ID!, $identity: IdentityInput!) {
  linkIdentity(memberId: $id, identity: $identity) { userErrors { code } }
}
"""


def email(value: str) -> dict:
    return {"type": "EMAIL", "value": value, "verified": False}


async def make_old(engine: AsyncEngine) -> None:
    """Every identity linked two days ago: none is new any more."""
    async with engine.begin() as connection:
        await connection.execute(
            text("UPDATE member_identities SET linked_at = linked_at - interval '2 days'")
        )


async def test_split_redemptions_after_a_new_identity_are_judged_together(live_client):
    admin = await live_client("admin")
    member = await created_member(admin, "POS", card("C-1"))
    await adjust(admin, member["id"], 2_000, "grant")

    first = await redeem(admin, member["id"], 400, "r-1")
    second = await redeem(admin, member["id"], 400, "r-2")

    assert first["decision"]["outcome"] == "ACCEPTED"
    assert second["decision"] == {"outcome": "HELD", "reasons": ["NEW_IDENTITY_REDEEM"]}


async def test_a_merge_at_the_till_is_an_identity_change(live_client, engine):
    admin = await live_client("admin")
    till = await live_client("pos", store="S001")
    victim = await created_member(admin, "POS", card("V-1"))
    await adjust(admin, victim["id"], 2_000, "savings")
    attacker = await created_member(admin, "POS", phone("13900139000"))
    await make_old(engine)

    merged = await identify(till, "POS", phone("13900139000"), card("V-1"))
    spent = await redeem(till, victim["id"], 600, "r-1", storeId="S001")

    assert merged["outcome"] == "MERGED"
    assert {merged["merge"]["survivor"]["id"], merged["merge"]["merged"]["id"]} == {
        victim["id"],
        attacker["id"],
    }
    assert spent["decision"] == {"outcome": "HELD", "reasons": ["NEW_IDENTITY_REDEEM"]}


async def verify(admin, member_id: str, number: str) -> None:  # type: ignore[no-untyped-def]
    linked = await admin.data(LINK, id=member_id, identity=phone(number))
    assert linked["linkIdentity"]["userErrors"] == []


async def test_referral_bonuses_wait_for_a_verified_referee(live_client):
    admin = await live_client("admin")
    referrer = await created_member(admin, "WEB", card("R-0"))
    referees = [
        await created_member(admin, "WEB", email(f"farm{n}@example.com"), referrerId=referrer["id"])
        for n in range(4)
    ]

    unpaid = await points_of(admin, referrer["id"])
    await verify(admin, referees[0]["id"], "13700137000")
    paid = await points_of(admin, referrer["id"])
    referee = await points_of(admin, referees[0]["id"], kinds=["BONUS"])

    assert unpaid["available"] == 0
    assert [(await points_of(admin, r["id"]))["available"] for r in referees[1:]] == [0, 0, 0]
    assert paid["available"] == 100
    assert referee["available"] == 100 + 100  # the referral bonus and the sign-up bonus


async def test_referral_bonuses_are_capped_per_referrer(live_client, settings):
    admin = await live_client("admin")
    referrer = await created_member(admin, "WEB", card("R-0"))
    cap = settings.points_referral_cap
    for n in range(cap + 2):
        await created_member(admin, "WEB", phone(f"1370013{n:04d}"), referrerId=referrer["id"])

    paid = await points_of(admin, referrer["id"])

    assert paid["available"] == 100 * cap

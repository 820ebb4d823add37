"""Partners and personal data, over real HTTP: masked profiles, and no lookup oracle."""

from __future__ import annotations

from tests.hub.api.members_graphql import (
    MEMBER_BY_ID,
    MEMBER_BY_IDENTITY,
    card,
    created_member,
    phone,
)

PROFILE = {"name": "Wang Fang", "gender": "FEMALE", "birthday": "1991-02-03", "region": "Shanghai"}

ALIASED_LOOKUPS = """
query Probe($a: IdentityInput!, $b: IdentityInput!) {
  a: member(identity: $a) { id }
  b: member(identity: $b) { id }
}
"""


async def enrolled(live_client) -> dict:  # type: ignore[no-untyped-def]
    admin = await live_client("admin")
    return await created_member(
        admin, "POS", phone("13800138000"), card("C-1", "pos-chain"), profile=PROFILE
    )


async def test_a_partner_without_pii_read_sees_no_personal_field(live_client):
    member = await enrolled(live_client)
    partner = await live_client("partner")

    seen = (await partner.data(MEMBER_BY_ID, id=member["id"]))["member"]

    assert seen["profile"]["name"] not in (None, "Wang Fang")
    assert "Fang" not in seen["profile"]["name"]
    assert seen["profile"]["birthday"] is None
    assert seen["profile"]["region"] is None
    assert seen["profile"]["gender"] == "UNKNOWN"
    values = {i["type"]: i["value"] for i in seen["identities"]}
    assert values["PHONE"] == "138****8000"


async def test_a_partner_with_pii_read_sees_the_profile_in_clear(live_client):
    member = await enrolled(live_client)
    partner = await live_client("partner", scopes=("pii:read",))

    seen = (await partner.data(MEMBER_BY_ID, id=member["id"]))["member"]

    assert seen["profile"] == PROFILE


async def test_a_partner_cannot_test_phone_numbers_by_lookup(live_client):
    await enrolled(live_client)
    partner = await live_client("partner")

    single = await partner.execute(MEMBER_BY_IDENTITY, identity=phone("13800138000"))
    aliased = await partner.execute(ALIASED_LOOKUPS, a=phone("13800138000"), b=phone("13800138001"))

    for body in (single, aliased):
        assert body.get("data") is None or all(v is None for v in body["data"].values())
        assert {e["extensions"]["code"] for e in body["errors"]} == {"FORBIDDEN"}
        assert all("members:lookup" in e["message"] for e in body["errors"])


async def test_a_partner_granted_members_lookup_and_a_till_may_look_members_up(live_client):
    member = await enrolled(live_client)
    partner = await live_client("partner", scopes=("members:lookup",))
    till = await live_client("pos", store="S001")

    for client in (partner, till):
        found = await client.data(MEMBER_BY_IDENTITY, identity=card("C-1", "pos-chain"))
        assert found["member"]["id"] == member["id"]

"""Who may assert what about a member's identities: only trusted channels vouch for a claim.

A member token (or a frontend key, which ships in a mini-program and is public) may claim
identities, but never as verified evidence: it never merges, never takes an identity that
another member holds, and a phone it claims earns no sign-up bonus.
"""

from __future__ import annotations

from tests.hub.api.members_graphql import card, created_member, identify, phone
from tests.security.members_graphql import acting_as, codes, member

LINK = """
mutation Link($id: ID!, $identity: IdentityInput!) {
  linkIdentity(memberId: $id, identity: $identity) {
    member { id identities { type value verified } } userErrors { code field }
  }
}
"""

EMAIL = {"type": "EMAIL", "value": "mallory@example.com", "verified": False}


async def test_a_member_token_cannot_take_over_another_members_phone(live_client, live_http):
    admin = await live_client("admin")
    pos = await live_client("pos", store="S001")
    victim = await created_member(pos, "POS", phone("13800138000"), card("C-VICTIM"))
    mallory = await created_member(admin, "WEB", EMAIL)
    token = await acting_as(live_http, admin, mallory["id"])

    for claim in (phone("13800138000"), phone("13800138000", verified=False)):
        answer = await identify(token, "MINI_PROGRAM", claim)
        assert answer["outcome"] != "MERGED" and answer["member"] is None, answer
        assert codes(answer) == ["IDENTITY_CONFLICT"]
        linked = (await token.data(LINK, id=mallory["id"], identity=claim))["linkIdentity"]
        assert codes(linked) == ["IDENTITY_CONFLICT"]

    mine = (await token.data("query { me { id identities { type } } }"))["me"]
    assert mine["id"] == mallory["id"] and [i["type"] for i in mine["identities"]] == ["EMAIL"]
    after = await member(admin, victim["id"])
    assert after["status"] == "ACTIVE" and after["mergedInto"] is None
    assert {i["type"] for i in after["identities"]} == {"PHONE", "POS_CARD"}


async def test_a_phone_a_member_token_claims_as_verified_is_not_verified(live_client, live_http):
    admin = await live_client("admin")
    pos = await live_client("pos", store="S001")
    mallory = await created_member(admin, "WEB", EMAIL)
    token = await acting_as(live_http, admin, mallory["id"])

    claimed = await identify(token, "MINI_PROGRAM", phone("13900139000"))
    linked = (await token.data(LINK, id=mallory["id"], identity=phone("13700137000")))[
        "linkIdentity"
    ]

    assert claimed["userErrors"] == [] and claimed["outcome"] == "LINKED"
    assert linked["userErrors"] == []
    seen = await member(admin, mallory["id"])
    assert sorted((i["type"], i["verified"]) for i in seen["identities"]) == [
        ("EMAIL", False),
        ("PHONE", False),
        ("PHONE", False),
    ]
    assert seen["points"]["available"] == 0, "no sign-up bonus for an unverified phone"
    # A till that saw the phone with another member's card does not find verified evidence
    # in what the token claimed: no merge.
    other = await created_member(pos, "POS", card("C-OTHER"))
    at_till = await identify(pos, "POS", phone("13900139000", verified=False), card("C-OTHER"))
    assert at_till["outcome"] == "CONFLICT"
    assert (await member(admin, other["id"]))["status"] == "ACTIVE"


async def test_a_frontend_keys_verified_claim_merges_nobody(live_client):
    pos = await live_client("pos", store="S001")
    frontend = await live_client("frontend")
    await created_member(pos, "POS", phone("13800138000"))
    await created_member(pos, "POS", card("C-1"))

    answer = await frontend.execute(
        """
        mutation Identify($input: IdentifyInput!) {
          identify(input: $input) { outcome userErrors { code } }
        }
        """,
        input={"identities": [phone("13800138000"), card("C-1")], "channel": "MINI_PROGRAM"},
    )

    assert answer["data"]["identify"]["outcome"] != "MERGED", answer

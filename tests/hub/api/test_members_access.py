"""Who sees what: masking per client kind, scopes per call, member tokens acting for one member."""

from __future__ import annotations

from datetime import timedelta

from tests.graphql_client import GraphQLClient
from tests.hub.api.members_graphql import (
    IDENTIFY,
    MEMBER_BY_ID,
    MERGE_MEMBERS,
    card,
    created_member,
    identify,
    openid,
    phone,
)
from tests.statements import counted_statements

IDENTITY_VALUES = "query Values($id: ID!) { member(id: $id) { identities { type value } } }"

ME = "query { me { id identities { type value } profile { name } } }"

ISSUE_TOKEN = """
mutation Token($id: ID!, $ttl: Int) {
  issueMemberToken(memberId: $id, ttlSeconds: $ttl) {
    token expiresAt member { id } userErrors { code field }
  }
}
"""

LINK = """
mutation Link($id: ID!, $identity: IdentityInput!) {
  linkIdentity(memberId: $id, identity: $identity) {
    member { identities { type value verified } } userErrors { code field }
  }
}
"""

UNLINK = """
mutation Unlink($id: ID!, $identity: IdentityInput!) {
  unlinkIdentity(memberId: $id, identity: $identity) {
    member { identities { value } } userErrors { code field }
  }
}
"""

UPDATE_PROFILE = """
mutation Profile($id: ID!, $profile: ProfileInput!) {
  updateProfile(memberId: $id, profile: $profile) {
    member { profile { name gender birthday region } } userErrors { code field }
  }
}
"""

CLEAR = {"PHONE": "+8613800138000", "WECHAT_OPENID": "oXyz1234567890ab12"}
MASKED = {"PHONE": "138****8000", "WECHAT_OPENID": "oXyz****ab12"}


async def member_client(http, frontend: GraphQLClient, member_id: str, ttl: int = 600):
    issued = (await frontend.data(ISSUE_TOKEN, id=member_id, ttl=ttl))["issueMemberToken"]
    assert issued["userErrors"] == [], issued
    return GraphQLClient(http, issued["token"])


def values(payload: dict) -> dict[str, str]:
    return {i["type"]: i["value"] for i in payload["identities"]}


async def test_values_are_masked_unless_the_caller_may_see_them(admin, graphql_client, http):
    member = await created_member(
        admin, "MINI_PROGRAM", openid("oXyz1234567890ab12"), phone("13800138000")
    )
    pos = await graphql_client("pos", store="S001")
    partner = await graphql_client("partner")
    trusted_partner = await graphql_client("partner", scopes=("pii:read",))
    itself = await member_client(
        http, await graphql_client("partner", scopes=("members:impersonate",)), member["id"]
    )

    seen = {
        "admin": values((await admin.data(IDENTITY_VALUES, id=member["id"]))["member"]),
        "pos": values((await pos.data(IDENTITY_VALUES, id=member["id"]))["member"]),
        "partner": values((await partner.data(IDENTITY_VALUES, id=member["id"]))["member"]),
        "partner+pii": values(
            (await trusted_partner.data(IDENTITY_VALUES, id=member["id"]))["member"]
        ),
        "member": values((await itself.data(ME))["me"]),
    }

    assert seen == {
        "admin": CLEAR,
        "pos": MASKED,
        "partner": MASKED,
        "partner+pii": CLEAR,
        "member": CLEAR,
    }
    pos_identify = await identify(pos, "POS", phone("13800138000"))
    assert values(pos_identify["member"]) == MASKED


async def test_a_member_token_acts_for_its_own_member_only(admin, graphql_client, http):
    own = await created_member(admin, "WEB", phone("13800138000"))
    other = await created_member(admin, "WEB", phone("13900139000"))
    itself = await member_client(
        http, await graphql_client("partner", scopes=("members:impersonate",)), own["id"]
    )

    read_other = await itself.execute(MEMBER_BY_ID, id=other["id"])
    link_other = await itself.data(LINK, id=other["id"], identity=card("C-1"))
    link_own = await itself.data(LINK, id=own["id"], identity=card("C-1"))
    profile_own = await itself.data(UPDATE_PROFILE, id=own["id"], profile={"name": "Chen Jie"})
    merge = await itself.data(MERGE_MEMBERS, survivor=own["id"], merged=other["id"], reason="x")
    identify_self = await identify(itself, "WEB", {"type": "EMAIL", "value": "Chen@Example.com"})

    assert read_other["data"]["member"] is None
    assert read_other["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    assert link_other["linkIdentity"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert link_own["linkIdentity"]["userErrors"] == []
    assert profile_own["updateProfile"]["member"]["profile"]["name"] == "Chen Jie"
    assert merge["mergeMembers"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert identify_self["outcome"] == "LINKED"
    assert identify_self["member"]["id"] == own["id"]
    me = (await itself.data(ME))["me"]
    assert sorted(values(me)) == ["EMAIL", "PHONE", "POS_CARD"]


async def test_scopes_per_client_kind(admin, graphql_client):
    member = await created_member(admin, "WEB", phone("13800138000"))
    pos = await graphql_client("pos", store="S001")
    partner = await graphql_client("partner")
    frontend = await graphql_client("frontend")

    pos_read = await pos.execute(MEMBER_BY_ID, id=member["id"])
    partner_identify = await partner.data(
        IDENTIFY, input={"identities": [card("C-1")], "channel": "PARTNER"}
    )
    frontend_read = await frontend.execute(MEMBER_BY_ID, id=member["id"])
    frontend_identify = await frontend.execute(
        IDENTIFY, input={"identities": [card("C-2")], "channel": "WEB"}
    )
    pos_link = await pos.data(LINK, id=member["id"], identity=card("C-3"))
    pos_token = await pos.data(ISSUE_TOKEN, id=member["id"], ttl=60)

    assert pos_read["data"]["member"]["id"] == member["id"]
    assert partner_identify["identify"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert frontend_read["errors"][0]["extensions"]["code"] == "FORBIDDEN"
    # A frontend key ships in an app: it logs members in, it does not write them.
    assert frontend_identify["data"]["identify"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert pos_link["linkIdentity"]["userErrors"][0]["code"] == "FORBIDDEN"
    assert pos_token["issueMemberToken"]["userErrors"][0]["code"] == "FORBIDDEN"


async def test_token_lifetime_is_capped(admin, graphql_client, settings):
    member = await created_member(admin, "WEB", phone("13800138000"))
    frontend = await graphql_client("partner", scopes=("members:impersonate",))
    too_long = settings.member_token_max_ttl_seconds + 1

    refused = (await frontend.data(ISSUE_TOKEN, id=member["id"], ttl=too_long))["issueMemberToken"]
    zero = (await frontend.data(ISSUE_TOKEN, id=member["id"], ttl=0))["issueMemberToken"]

    assert refused["token"] is None
    assert refused["userErrors"] == [{"code": "INVALID_INPUT", "field": ["ttlSeconds"]}]
    assert zero["userErrors"][0]["code"] == "INVALID_INPUT"


async def test_an_expired_token_stops_working(admin, graphql_client, http, clock):
    member = await created_member(admin, "WEB", phone("13800138000"))
    itself = await member_client(
        http, await graphql_client("partner", scopes=("members:impersonate",)), member["id"], ttl=60
    )

    clock.advance(timedelta(seconds=61))

    response = await http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {itself.key}"}
    )
    assert response.status_code == 401


async def test_a_merged_members_token_acts_for_the_survivor(admin, graphql_client, http):
    survivor = await created_member(admin, "WEB", phone("13800138000"))
    merged = await created_member(admin, "POS", card("C-1"))
    itself = await member_client(
        http, await graphql_client("partner", scopes=("members:impersonate",)), merged["id"]
    )

    await admin.data(MERGE_MEMBERS, survivor=survivor["id"], merged=merged["id"], reason="dup")

    me = (await itself.data(ME))["me"]
    assert me["id"] == survivor["id"]
    assert sorted(values(me)) == ["PHONE", "POS_CARD"]


async def test_link_unlink_and_profile_updates_by_an_operator(admin):
    member = await created_member(admin, "WEB", phone("13800138000"), profile={"name": "Zhou"})
    other = await created_member(admin, "WEB", phone("13900139000"))

    linked = (await admin.data(LINK, id=member["id"], identity=card("C-1")))["linkIdentity"]
    taken = (await admin.data(LINK, id=other["id"], identity=card("C-1")))["linkIdentity"]
    second_phone = (await admin.data(LINK, id=member["id"], identity=phone("13700137000")))[
        "linkIdentity"
    ]
    unlinked = (await admin.data(UNLINK, id=member["id"], identity=card("C-1")))["unlinkIdentity"]
    then_linked = (await admin.data(LINK, id=other["id"], identity=card("C-1")))["linkIdentity"]
    profile = (
        await admin.data(UPDATE_PROFILE, id=member["id"], profile={"name": None, "gender": "MALE"})
    )["updateProfile"]
    bad = (await admin.data(UPDATE_PROFILE, id=member["id"], profile={"name": "x" * 101}))[
        "updateProfile"
    ]

    assert linked["userErrors"] == []
    assert taken["userErrors"] == [{"code": "IDENTITY_CONFLICT", "field": ["identity"]}]
    assert second_phone["userErrors"] == [{"code": "IDENTITY_CONFLICT", "field": ["identity"]}]
    assert unlinked["member"]["identities"] == [{"value": "+8613800138000"}]
    assert then_linked["userErrors"] == []
    assert profile["member"]["profile"] == {
        "name": None,
        "gender": "MALE",
        "birthday": None,
        "region": None,
    }
    assert bad["userErrors"] == [{"code": "INVALID_INPUT", "field": ["profile", "name"]}]


async def test_a_member_tokens_reads_open_no_session(admin, graphql_client, http, engine):
    member = await created_member(admin, "MINI_PROGRAM", openid("oXyz1234567890ab12"))
    itself = await member_client(
        http, await graphql_client("partner", scopes=("members:impersonate",)), member["id"]
    )

    with counted_statements(engine) as on_sessions:
        me = (await itself.data(ME))["me"]

    assert me["id"] == member["id"]
    # The token's check and the reads all go to the read pool.
    assert on_sessions == []

"""Member tokens: who may mint one, and how long one lives.

A frontend key ships in a mini-program, so anyone holds it: it logs members in only through
evidence the hub checks itself. Minting a token for a member ID needs the server-side scope
``members:impersonate``; revoking the client that minted a token revokes the token.
"""

from __future__ import annotations

from hub.clients import revoke_client
from tests.graphql_client import GraphQLClient
from tests.hub.api.members_graphql import created_member, phone
from tests.security.members_graphql import ISSUE_TOKEN, ME, acting_as, codes


async def test_a_frontend_key_cannot_mint_a_token_for_a_member_id(live_client):
    pos = await live_client("pos", store="S001")
    victim = await created_member(pos, "POS", phone("13800138000"))
    frontend = await live_client("frontend")

    issued = (await frontend.data(ISSUE_TOKEN, id=victim["id"]))["issueMemberToken"]

    assert issued["token"] is None
    assert codes(issued) == ["FORBIDDEN"]


async def test_a_server_key_with_members_impersonate_mints_tokens(live_client, live_http):
    pos = await live_client("pos", store="S001")
    member = await created_member(pos, "POS", phone("13800138000"))
    server = await live_client("partner", scopes=("members:impersonate",))

    token = await acting_as(live_http, server, member["id"])

    assert (await token.data(ME))["me"]["id"] == member["id"]


async def test_revoking_a_client_revokes_the_tokens_it_minted(
    live_client, live_http, new_key, run_in_transaction
):
    pos = await live_client("pos", store="S001")
    member = await created_member(pos, "POS", phone("13800138000"))
    server_key = await new_key("partner", name="shop-server", scopes=("members:impersonate",))
    server = GraphQLClient(live_http, server_key)
    token = await acting_as(live_http, server, member["id"])
    assert (await token.data(ME))["me"]["id"] == member["id"]

    await run_in_transaction(lambda s: revoke_client(s, name="shop-server"))

    response = await live_http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token.key}"}
    )
    assert response.status_code == 401

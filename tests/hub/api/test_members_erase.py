"""Erasure: personal data gone from every table, the member still answers as ERASED."""

from __future__ import annotations

from sqlalchemy import text

from tests.hub.api.members_graphql import (
    MEMBER_BY_ID,
    MERGE_MEMBERS,
    card,
    created_member,
    openid,
    phone,
)

ERASE = """
mutation Erase($id: ID!, $reason: String!) {
  eraseMember(memberId: $id, reason: $reason) {
    member { id status profile { name gender birthday region } identities { value } }
    userErrors { code field }
  }
}
"""

ISSUE_TOKEN = """
mutation Token($id: ID!) { issueMemberToken(memberId: $id) { token userErrors { code } } }
"""

ME = "query { me { id status } }"

PERSONAL = ("13800138000", "o-zhao-lei", "Zhao Lei", "Hangzhou", "1988-08-08", "C-55", "Chengdu")


async def every_text_in_the_database(engine) -> str:
    """All rows of all tables, as text: where personal data could hide."""
    async with engine.connect() as conn:
        tables = (
            await conn.execute(text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'"))
        ).scalars()
        dumps = [
            str((await conn.execute(text(f'SELECT t::text FROM "{table}" t'))).scalars().all())
            for table in list(tables)
        ]
    return "\n".join(dumps)


async def test_erasure_removes_personal_data_everywhere_and_keeps_the_member(
    admin, engine, graphql_client, http
):
    member = await created_member(
        admin,
        "MINI_PROGRAM",
        openid("o-zhao-lei"),
        phone("13800138000"),
        profile={"name": "Zhao Lei", "region": "Hangzhou", "birthday": "1988-08-08"},
    )
    folded = await created_member(admin, "POS", card("C-55"), profile={"region": "Chengdu"})
    await admin.data(MERGE_MEMBERS, survivor=member["id"], merged=folded["id"], reason="dup")
    frontend = await graphql_client("partner", scopes=("members:impersonate",))
    token = (await frontend.data(ISSUE_TOKEN, id=member["id"]))["issueMemberToken"]["token"]
    before = await every_text_in_the_database(engine)
    assert all(p in before for p in PERSONAL)

    erased = (await admin.data(ERASE, id=member["id"], reason="PIPL request #42"))["eraseMember"]

    assert erased["userErrors"] == []
    assert erased["member"]["status"] == "ERASED"
    assert erased["member"]["identities"] == []
    dump = await every_text_in_the_database(engine)
    leaked = [p for p in PERSONAL if p in dump]
    assert leaked == []
    again = (await admin.data(MEMBER_BY_ID, id=member["id"]))["member"]
    assert again["status"] == "ERASED"
    assert again["profile"] == {"name": None, "gender": "UNKNOWN", "birthday": None, "region": None}
    assert (await admin.data(MEMBER_BY_ID, id=folded["id"]))["member"]["id"] == member["id"]
    rejected = await http.post(
        "/graphql", json={"query": ME}, headers={"Authorization": f"Bearer {token}"}
    )
    assert rejected.status_code == 401


async def test_an_erased_phone_can_enrol_again_but_its_hash_is_kept(admin, engine):
    first = await created_member(admin, "WEB", phone("13800138000"))
    await admin.data(ERASE, id=first["id"], reason="request")

    second = await created_member(admin, "WEB", phone("+86 138 0013 8000"))

    assert second["id"] != first["id"]
    async with engine.connect() as conn:
        kept = (await conn.execute(text("SELECT phone_hash FROM erased_phones"))).scalars().all()
        linked = (
            (
                await conn.execute(
                    text(
                        "SELECT payload->>'phone_hash' FROM outbox_events"
                        " WHERE event_type = 'identity.linked' ORDER BY id"
                    )
                )
            )
            .scalars()
            .all()
        )
    assert len(kept) == 1
    assert linked == [kept[0], kept[0]]


async def test_erasure_is_for_operators_only(admin, graphql_client):
    member = await created_member(admin, "WEB", phone("13800138000"))
    pos = await graphql_client("pos", store="S001")

    refused = (await pos.data(ERASE, id=member["id"], reason="x"))["eraseMember"]

    assert refused["userErrors"] == [{"code": "FORBIDDEN", "field": None}]
    assert (await admin.data(MEMBER_BY_ID, id=member["id"]))["member"]["status"] == "ACTIVE"

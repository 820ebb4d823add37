"""The scope helper: one line per resolver, top-level FORBIDDEN for queries, a user error for
mutations, and a member token allowed for its own member only."""

from __future__ import annotations

import strawberry

from hub.errors import UserError
from hub.http.permissions import requires
from hub.http.principal import DEFAULT_SCOPES, ClientKind, Principal, Scope
from hub.ids import encode_id


@strawberry.type
class EchoPayload:
    echoed: str | None = None
    user_errors: list[UserError] = strawberry.field(default_factory=list)


@strawberry.type
class Query:
    @strawberry.field
    @requires(Scope.MEMBERS_READ)
    async def secret(self, info: strawberry.Info) -> str:
        return "visible"


@strawberry.type
class Mutation:
    @strawberry.mutation
    @requires(Scope.MEMBERS_WRITE, self_member="member_id")
    async def echo(self, info: strawberry.Info, member_id: strawberry.ID) -> EchoPayload:
        return EchoPayload(echoed=member_id)


schema = strawberry.Schema(query=Query, mutation=Mutation)


class Ctx:
    def __init__(self, principal: Principal) -> None:
        self.principal = principal


def principal(kind: ClientKind, member_id: int | None = None) -> Principal:
    return Principal(kind=kind, name=kind.value, scopes=DEFAULT_SCOPES[kind], member_id=member_id)


async def test_query_outside_scope_is_a_top_level_forbidden_error():
    allowed = await schema.execute("{ secret }", context_value=Ctx(principal(ClientKind.POS)))
    denied = await schema.execute("{ secret }", context_value=Ctx(principal(ClientKind.FRONTEND)))

    assert allowed.data == {"secret": "visible"}
    assert denied.data is None
    assert denied.errors[0].extensions == {"code": "FORBIDDEN"}


async def test_admin_holds_every_scope():
    result = await schema.execute("{ secret }", context_value=Ctx(principal(ClientKind.ADMIN)))

    assert result.data == {"secret": "visible"}


async def test_mutation_outside_scope_answers_forbidden_user_error():
    mutation = "mutation($id: ID!) { echo(memberId: $id) { echoed userErrors { code } } }"
    own, other = encode_id("Member", 7), encode_id("Member", 8)
    member = Ctx(principal(ClientKind.MEMBER, member_id=7))

    for_self = await schema.execute(mutation, {"id": own}, context_value=member)
    for_other = await schema.execute(mutation, {"id": other}, context_value=member)
    partner = await schema.execute(
        mutation, {"id": own}, context_value=Ctx(principal(ClientKind.PARTNER))
    )

    assert for_self.data == {"echo": {"echoed": own, "userErrors": []}}
    assert for_other.data == {"echo": {"echoed": None, "userErrors": [{"code": "FORBIDDEN"}]}}
    assert partner.data == {"echo": {"echoed": None, "userErrors": [{"code": "FORBIDDEN"}]}}

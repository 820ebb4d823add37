"""The hub answers every operation the same from its compiled plans as from graphql-core.

Two apps on one database, one with plans and one without, get the same requests: the
generated queries of the fuzzing test, the deep reads clients send, and mutations whose
answer does not depend on which app goes first (replays, refusals, bad variables).
Status, data and errors (with their paths) must be equal.
"""

from __future__ import annotations

from typing import Any

import httpx
import hypothesis_graphql
from graphql import GraphQLError, GraphQLSchema, OperationDefinitionNode, parse, validate

from hub.execution.query_plans import compile_query
from hub.execution.schema import build_schema, schema_sdl
from hub.http.app import create_app
from hub.ids import encode_id
from hub.settings import RateLimit
from tests.hub.api.members_graphql import card, created_member, phone
from tests.hub.api.points_graphql import ADJUST, adjust
from tests.hub.api.purchases_graphql import RECORD_BATCH, purchase_input, record
from tests.hub.api.test_fuzz import SCALARS, examples

GENERATED = 120

PROFILE = """
query Profile($phone: String!) {
  member(identity: {type: PHONE, value: $phone}) {
    id status createdAt registeredChannel __typename
    tier { code name since pointsMultiplier spendToNext next { code rank qualifyingSpend } }
    points {
      available pending lifetimeEarned
      history(first: 3) { edges { node { kind bucket amount balanceAfter } } }
    }
    identities { type namespace value verified channel }
    stats { orderCount totalSpend averageOrderValue lastPurchaseAt }
    purchases(first: 2) {
      edges { cursor node { receiptNo amount storeId status items { sku } member { id } } }
      pageInfo { hasNextPage endCursor }
    }
    ...Extra
  }
}
fragment Extra on Member { tags { tag { name } } lifecycle rfm { segment } mergedInto { id } }
"""

PAGE = """
{
  members(first: 10) {
    totalCount
    pageInfo { hasNextPage }
    edges {
      cursor
      node {
        id tier { code } points { available }
        first: purchases(first: 1) { edges { node { amount } } }
      }
    }
  }
  tiers { code name qualifyingSpend }
  tags { name }
}
"""


def replayed_and_refused_mutations(member_id: str) -> list[tuple[str, dict[str, Any]]]:
    """Mutations that answer alike from either app once they have run: replays and
    refusals."""
    grant = {"memberId": member_id, "points": 5, "idempotencyKey": "grant", "reason": "goodwill"}
    return [
        (ADJUST, {"input": grant}),
        (ADJUST, {"input": {**grant, "memberId": encode_id("Member", 10**9)}}),
        (ADJUST, {"input": {**grant, "memberId": "not an id"}}),
        (ADJUST, {"input": {**grant, "points": "five"}}),  # a bad variable
        (
            RECORD_BATCH,
            {
                "inputs": [
                    purchase_input("R-1-0", "120.50", memberId=member_id),  # replayed
                    purchase_input("R-new", "-3", memberId=member_id),  # refused
                    purchase_input("R-1-1", "155.50", memberId=member_id),  # replayed
                ]
            },
        ),
        ("mutation { a: __typename b: __typename }", {}),
    ]


def generated_queries() -> list[str]:
    strategy = hypothesis_graphql.queries(schema_sdl(), custom_scalars=SCALARS, allow_x00=False)
    return examples(strategy, GENERATED)


def _compiles(schema: GraphQLSchema, query: str) -> bool:
    """Whether the hub runs ``query`` from a plan (it plans valid documents only)."""
    try:
        document = parse(query)
    except GraphQLError:
        return False
    if validate(schema, document):
        return False
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    return compile_query(schema, document, operations[0]) is not None


def _comparable(response: httpx.Response) -> tuple[int, Any, list[tuple[str, Any]]]:
    body = response.json()
    errors = sorted((e["message"], e.get("path")) for e in body.get("errors", []))
    return response.status_code, body.get("data"), errors


async def test_queries_answer_alike_from_plans_and_from_graphql_core(
    settings, engine, redis, clock, admin, graphql_client, new_key
):
    till = await graphql_client("pos", store="S001")
    members = []
    for n in range(6):
        member = await created_member(admin, "POS", card(f"C-{n}"), phone(f"1390000{n:04d}"))
        members.append(member)
        for r in range(n % 3 + 1):
            await record(till, f"R-{n}-{r}", f"{120 + 35 * r}.50", memberId=member["id"])
        await adjust(admin, member["id"], 5 * n, f"grant-{n}")

    unlimited = {"admin": RateLimit(rate=1e6, burst=10**6)}
    apps = [
        create_app(
            settings.model_copy(update={"query_plans": plans, "rate_limits": unlimited}),
            engine=engine,
            redis=redis,
            clock=clock,
        )
        for plans in (True, False)
    ]
    key = await new_key("admin")
    requests: list[tuple[str, dict[str, Any]]] = [
        (PROFILE, {"phone": f"+86 1390000{n:04d}"}) for n in range(6)
    ]
    requests += [(PAGE, {})] + [(query, {}) for query in generated_queries()]
    mutations = replayed_and_refused_mutations(members[1]["id"])
    requests += mutations
    schema = build_schema()._schema
    compiled = sum(_compiles(schema, query) for query, _ in requests)

    differences = []
    try:
        async with (
            httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[0]), base_url="http://a") as a,
            httpx.AsyncClient(transport=httpx.ASGITransport(app=apps[1]), base_url="http://b") as b,
        ):
            for query, variables in mutations:  # done once, so that both apps replay them
                await b.post(
                    "/graphql",
                    json={"query": query, "variables": variables},
                    headers={"Authorization": f"Bearer {key}"},
                )
            for query, variables in requests:
                payload = {"query": query, "variables": variables}
                headers = {"Authorization": f"Bearer {key}"}
                planned = _comparable(await a.post("/graphql", json=payload, headers=headers))
                reference = _comparable(await b.post("/graphql", json=payload, headers=headers))
                if planned != reference:
                    differences.append((query, planned, reference))
                if query == PROFILE:
                    member = planned[1]["member"]
                    assert member["points"]["available"] > 0 and member["purchases"]["edges"]
                if query == RECORD_BATCH:
                    answers = planned[1]["recordPurchases"]
                    assert [a["replayed"] for a in answers] == [True, False, True]
                    assert answers[1]["userErrors"] and answers[1]["purchase"] is None
    finally:
        for app in apps:
            await app.state.hub.reads.close()

    assert differences == []
    assert compiled > len(requests) // 2, "most of these queries should run from plans"

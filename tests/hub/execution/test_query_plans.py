"""Query plans answer exactly as graphql-core does: data, errors, their paths, nulls."""

from __future__ import annotations

import asyncio
from enum import Enum
from typing import Annotated, Any

import pytest
import strawberry
import strawberry.schema.schema_converter as strawberry_converter
from graphql import (
    ExecutionResult,
    GraphQLArgument,
    GraphQLField,
    GraphQLList,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLString,
    OperationDefinitionNode,
    execute,
    parse,
)
from strawberry import relay
from strawberry.dataloader import DataLoader
from strawberry.extensions import FieldExtension

from hub.execution.query_plans import compile_query


@strawberry.input
class Greeting:
    words: list[str]
    shout: bool = False


@strawberry.input
class Tag:
    name: str
    weight: int | None = None


@strawberry.enum
class Colour(Enum):
    RED = "red"
    BLUE = "blue"


class Upper(FieldExtension):
    def resolve(self, next_: Any, source: Any, info: strawberry.Info, **kwargs: Any) -> Any:
        return next_(source, info, **kwargs).upper()


@strawberry.interface
class Thing:
    id: int


@strawberry.type
class Box(Thing):
    size: int


@strawberry.type
class Item(Thing):
    @strawberry.field
    async def label(self) -> str:
        await asyncio.sleep(0)
        return f"item {self.id}"

    @strawberry.field
    def broken(self) -> str:
        raise ValueError(f"item {self.id} is broken")

    @strawberry.field
    async def broken_later(self) -> str | None:
        await asyncio.sleep(0)
        raise ValueError(f"item {self.id} broke later")

    @strawberry.field
    def missing(self) -> str:
        return None  # type: ignore[return-value]

    @strawberry.field
    async def doubled(self, info: strawberry.Info) -> int:
        return await info.context["doubles"].load(self.id)

    @strawberry.field
    def path(self, info: strawberry.Info) -> list[str]:
        return [str(key) for key in info.path.as_list()]

    @strawberry.field
    @staticmethod
    def twin(root: Item) -> int:
        return root.id

    @strawberry.field
    def cousin(self, parent: strawberry.Parent[Item], step: int = 1) -> int:
        return parent.id + step

    @strawberry.field(extensions=[Upper()])
    def shout(self, info: strawberry.Info) -> str:
        return f"{info.field_name} {self.id}"


@strawberry.type
class Query:
    @strawberry.field
    def items(self, count: int = 3) -> list[Item]:
        return [Item(id=n) for n in range(count)]

    @strawberry.field
    async def maybe_items(self) -> list[Item | None]:
        return [Item(id=1), None, Item(id=3)]

    @strawberry.field
    def strict(self) -> Item:
        return Item(id=7)

    @strawberry.field
    def optional(self) -> Item | None:
        return Item(id=8)

    @strawberry.field
    def things(self) -> list[Thing]:
        return [Item(id=1), Box(id=2, size=10), Item(id=3)]

    @strawberry.field
    def found(self, box: bool) -> Annotated[Item | Box, strawberry.union("Found")] | None:
        return Box(id=4, size=5) if box else Item(id=5)

    @strawberry.field
    def not_a_list(self) -> list[int] | None:
        return 5  # type: ignore[return-value]

    @strawberry.field
    def greet(self, greeting: Greeting | None = None, name: str = "world") -> str:
        words = greeting.words if greeting else ["hello"]
        text = " ".join([*words, name])
        return text.upper() if greeting and greeting.shout else text

    @strawberry.field
    def describe(
        self,
        node: relay.GlobalID | None = None,
        colours: list[Colour] | None = None,
        tags: list[Tag] | None = None,
        note: strawberry.Maybe[str | None] = None,
    ) -> str:
        parts = [
            f"node {node.type_name}/{node.node_id}" if node else "no node",
            ",".join(c.name for c in colours or ()),
            ",".join(f"{t.name}:{t.weight}" for t in tags or ()),
            "note unset" if note is None else f"note {note.value}",
        ]
        return "; ".join(parts)


@strawberry.type
class Mutation:
    @strawberry.mutation
    async def touch(self, info: strawberry.Info, name: str, wait: int = 0) -> int:
        log = info.context["log"]
        log.append(f"{name} started")
        for _ in range(wait):
            await asyncio.sleep(0)
        log.append(f"{name} done")
        return len(log)

    @strawberry.mutation
    def refuse(self, info: strawberry.Info) -> int:
        info.context["log"].append("refused")
        raise ValueError("refused")

    @strawberry.mutation
    async def refuse_later(self, info: strawberry.Info) -> int | None:
        await asyncio.sleep(0)
        info.context["log"].append("refused later")
        raise ValueError("refused later")

    @strawberry.mutation
    def item(self) -> Item:
        return Item(id=9)


SCHEMA = strawberry.Schema(query=Query, mutation=Mutation)


def _context(calls: list[list[int]]) -> dict[str, Any]:
    async def doubles(keys: list[int]) -> list[int]:
        calls.append(list(keys))
        return [2 * key for key in keys]

    return {"doubles": DataLoader(load_fn=doubles), "log": []}


def _operation(document: Any) -> OperationDefinitionNode:
    return next(d for d in document.definitions if isinstance(d, OperationDefinitionNode))


def _answer(result: ExecutionResult) -> tuple[Any, list[tuple[str, list[Any] | None]]]:
    errors = sorted((e.message, e.path) for e in result.errors or ())  # type: ignore[type-var]
    return result.data, errors


async def _both(query: str, variables: dict[str, Any] | None = None) -> tuple[Any, Any]:
    """The answers of ``query`` from its plan and from graphql-core, each with the log of
    what the mutations did, in order."""
    document = parse(query)
    plan = compile_query(SCHEMA._schema, document, _operation(document))
    assert plan is not None, "this document should be compiled"
    planned_context = _context([])
    planned = await plan.execute(variables, planned_context)
    reference_context = _context([])
    reference = execute(
        SCHEMA._schema,
        document,
        variable_values=variables,
        context_value=reference_context,
        executor_class=SCHEMA.execution_context_class,
    )
    if asyncio.iscoroutine(reference):
        reference = await reference
    assert isinstance(reference, ExecutionResult)
    return (
        (*_answer(planned), planned_context["log"]),
        (*_answer(reference), reference_context["log"]),
    )


QUERIES = [
    "{ items { id label } }",
    "{ items(count: 0) { id } }",
    "{ __typename items(count: 1) { __typename id } }",
    # A non-null field's error nulls the whole list, up to the non-null root field.
    "{ items { id broken } }",
    "{ strict { missing } }",
    "{ optional { missing } label: optional { id } }",
    # Nullable items go null one by one; nullable fields keep their siblings.
    "{ maybeItems { id label brokenLater } }",
    "{ maybeItems { id broken } }",
    "{ notAList }",
    # Abstract types: each value completes with the fields of the type it turns out to be.
    "{ things { __typename id ... on Box { size } ... on Item { label } } }",
    "{ things { ...on Item { broken } } }",
    "{ a: found(box: true) { ...F } b: found(box: false) { ...F } }"
    " fragment F on Found { __typename ... on Thing { id } ... on Box { size } }",
    "{ items(count: 2) { path } optional { path } }",
    # Fragments, inline fragments and a repeated response key merge into one field.
    "{ items(count: 2) { ...Parts } } fragment Parts on Item { id ... on Item { label } }",
    "{ a: items(count: 1) { id } a: items(count: 1) { label } b: strict { id } }",
    '{ greet(name: "Ann", greeting: {words: ["hi", "there"], shout: true}) }',
    "{ greet }",
    # Reserved parameters (root, parent, info) and a field extension.
    "{ items(count: 2) { twin cousin c2: cousin(step: 2) shout } strict { shout } }",
    # Arguments strawberry converts itself: global IDs, enums, lists of inputs, Maybe.
    "{ describe }",
    '{ describe(node: "SXRlbTox", colours: [RED, BLUE], tags: [{name: "a"}, {name: "b",'
    " weight: 2}], note: null) }",
    '{ describe(note: "hi") }',
    '{ describe(node: "not a global id") }',
    # A mutation's fields run one after another, even when the first one waits.
    'mutation { a: touch(name: "a", wait: 3) b: touch(name: "b") item { id label } }',
    # A nullable field's error leaves the next ones to run; a non-null one stops them.
    'mutation { a: touch(name: "a") refuseLater b: touch(name: "b", wait: 1) }',
    'mutation { a: touch(name: "a") refuse b: touch(name: "b") }',
]


@pytest.mark.parametrize("query", QUERIES)
async def test_a_plan_answers_as_graphql_core(query):
    planned, reference = await _both(query)
    assert planned == reference


async def test_a_plan_calls_resolvers_without_strawberrys_per_call_wrapping(monkeypatch):
    """Fields without extensions skip strawberry's argument conversion and wrapping; the
    field with one still runs through it."""
    converted: list[str] = []
    original = strawberry_converter.get_arguments

    def counted(**kwargs: Any) -> Any:
        converted.append(kwargs["field"].python_name)
        return original(**kwargs)

    monkeypatch.setattr(strawberry_converter, "get_arguments", counted)
    document = parse(
        "{ items(count: 2) { id label cousin(step: 3) shout } describe(colours: [RED]) }"
    )
    plan = compile_query(SCHEMA._schema, document, _operation(document))
    assert plan is not None

    result = await plan.execute(None, _context([]))

    assert result.errors is None
    assert result.data == {
        "items": [
            {"id": 0, "label": "item 0", "cousin": 3, "shout": "SHOUT 0"},
            {"id": 1, "label": "item 1", "cousin": 4, "shout": "SHOUT 1"},
        ],
        "describe": "no node; RED; ; note unset",
    }
    assert converted == ["shout", "shout"]


async def test_a_plan_coerces_variables_and_reports_bad_ones_as_graphql_core():
    query = (
        "query Greet($name: String!, $words: [String!]!, $n: Int = 2)"
        " { greet(name: $name, greeting: {words: $words}) items(count: $n) { id } }"
    )
    planned, reference = await _both(query, {"name": "Bo", "words": ["hey"]})
    assert planned == reference
    assert planned[0] == {"greet": "hey Bo", "items": [{"id": 0}, {"id": 1}]}

    planned, reference = await _both(query, {"name": 5, "words": "hey", "n": "two"})
    assert planned == reference
    assert planned[0] is None and len(planned[1]) == 2


async def test_a_mutation_plan_runs_its_fields_in_order_and_stops_at_a_root_null():
    planned, reference = await _both(
        'mutation { a: touch(name: "a", wait: 3) refuse b: touch(name: "b") }'
    )
    assert planned == reference
    data, errors, log = planned
    assert data is None
    assert errors == [("refused", ["refuse"])]
    assert log == ["a started", "a done", "refused"]

    planned, reference = await _both(
        'mutation { a: touch(name: "a", wait: 3) b: touch(name: "b") }'
    )
    assert planned == reference
    assert planned[0] == {"a": 2, "b": 4}
    assert planned[2] == ["a started", "a done", "b started", "b done"]


async def test_a_plan_completes_list_items_together_so_dataloaders_batch():
    document = parse("{ items(count: 5) { doubled } strict { doubled } }")
    plan = compile_query(SCHEMA._schema, document, _operation(document))
    assert plan is not None
    calls: list[list[int]] = []

    result = await plan.execute(None, _context(calls))

    assert result.errors is None
    assert result.data == {
        "items": [{"doubled": 2 * n} for n in range(5)],
        "strict": {"doubled": 14},
    }
    assert [sorted(keys) for keys in calls] == [[0, 1, 2, 3, 4, 7]]


@pytest.mark.parametrize(
    "query",
    [
        "subscription { ticks }",
        "{ __schema { queryType { name } } }",
        "query { items @include(if: true) { id } }",
        "query Q @skip(if: false) { strict { id } }",
    ],
)
async def test_what_plans_leave_to_graphql_core_is_not_compiled(query):
    document = parse(query)
    assert compile_query(SCHEMA._schema, document, _operation(document)) is None


async def test_a_literal_list_argument_is_fresh_for_every_request():
    def exclaim(source: Any, info: Any, words: list[str]) -> str:
        words.append("!")  # a resolver that changes its argument
        return " ".join(words)

    schema = GraphQLSchema(
        GraphQLObjectType(
            "Query",
            {
                "exclaim": GraphQLField(
                    GraphQLString,
                    args={"words": GraphQLArgument(GraphQLList(GraphQLString))},
                    resolve=exclaim,
                )
            },
        )
    )
    document = parse('{ exclaim(words: ["so", "good"]) }')
    plan = compile_query(schema, document, _operation(document))
    assert plan is not None

    answers = [(await plan.execute(None, None)).data for _ in range(2)]

    assert answers == [{"exclaim": "so good !"}] * 2

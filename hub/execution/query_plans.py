"""Query plans: a cached operation's fields resolved against the schema once, so that each
request only runs the resolvers and shapes the answer.

For every request and every field, graphql-core's executor works out again what a cached
document has already settled: which fields each selection set collects once fragments
are merged, each field's definition, return type and literal arguments. It also carries
machinery this service does not use (incremental delivery, abort signals, async
iterables). For a member lookup of seven fields that was about half of the request's CPU.
Resolvers written with strawberry are called without its per-call wrapping
(``hub.execution.direct_resolvers``).

A plan keeps graphql-core's rules for what it runs:

- resolvers get the same ``info`` and coerced arguments; strawberry's fields without a
  resolver are read as strawberry reads them, without building an ``info``;
- a query's sibling fields and list items that wait are awaited together, so dataloaders
  batch; a mutation's top-level fields run one after another, in document order, and a
  null that goes up to the root stops the ones after it;
- leaf values are coerced by their type; an object is checked with its ``is_type_of``;
- a field error is located at its path, and a null where the type forbids one goes up
  to the nearest nullable field, whose later errors are then dropped.

Subscriptions, directives and introspection other than ``__typename`` are not compiled;
those documents run on graphql-core.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from datetime import date, time
from decimal import Decimal
from enum import Enum
from typing import Any
from uuid import UUID

import strawberry
from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    default_field_resolver,
    get_argument_values,
    is_leaf_type,
    is_object_type,
)
from graphql.language import ListValueNode, ObjectValueNode, ValueNode, VariableNode
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from hub.execution.direct_resolvers import direct_resolver
from hub.execution.plan_runner import run_plan
from hub.execution.variables import VariableCoercion


class NotCompiled(Exception):
    """The document uses something plans leave to graphql-core."""


class Shape:
    """What a field's value completes to: a leaf, an object's fields, the fields of each
    object type an abstract type may turn out to be, or a list of shapes."""

    __slots__ = ("abstract", "fields", "item", "leaf", "non_null", "object_type", "runtime")

    def __init__(self, non_null: bool) -> None:
        self.non_null = non_null
        self.leaf: Any = None
        self.object_type: GraphQLObjectType | None = None
        self.fields: tuple[PlannedField, ...] = ()
        self.abstract: GraphQLInterfaceType | GraphQLUnionType | None = None
        self.runtime: dict[str, tuple[GraphQLObjectType, tuple[PlannedField, ...]]] = {}
        self.item: Shape | None = None


class PlannedField:
    __slots__ = (
        "arguments",
        "definition",
        "key",
        "name",
        "needs_info",
        "nodes",
        "parent_type",
        "resolve",
        "shape",
    )

    def __init__(
        self,
        key: str,
        nodes: list[FieldNode],
        definition: GraphQLField,
        parent_type: GraphQLObjectType,
        direct: Callable[..., Any] | None = None,
    ) -> None:
        self.key = key
        self.name = nodes[0].name.value
        self.nodes = nodes
        self.definition = definition
        self.parent_type = parent_type
        resolve = direct or definition.resolve
        # strawberry marks its resolver of a field without one: it reads the attribute
        # and ignores ``info``, so none is built for it.
        self.needs_info = not getattr(resolve, "_is_default", False)
        self.resolve: Callable[..., Any] = resolve or default_field_resolver
        self.arguments = _literal_arguments(definition, nodes[0])
        self.shape: Shape = Shape(False)


#: Values a resolver cannot change: literal arguments made only of these are shared by
#: every request. An input object or a list is coerced afresh, as graphql-core does.
_IMMUTABLE = (str, int, float, bool, type(None), Enum, Decimal, date, time, UUID)


def _literal_arguments(definition: GraphQLField, node: FieldNode) -> dict[str, Any] | None:
    """The field's arguments coerced once, or None when they must be coerced per request
    (they read variables, or hold values a resolver could change)."""
    if any(_reads_variables(argument.value) for argument in node.arguments or ()):
        return None
    arguments = get_argument_values(definition, node)
    if all(isinstance(value, _IMMUTABLE) for value in arguments.values()):
        return arguments
    return None


def _answer(value: str) -> Callable[[Any, Any], str]:
    """A resolver answering ``value`` that, like strawberry's basic fields, needs no info."""

    def resolve(source: Any, info: Any) -> str:
        return value

    resolve._is_default = True  # type: ignore[attr-defined]
    return resolve


def _reads_variables(value: ValueNode) -> bool:
    # Not graphql-core's is_const_value_node: it calls ``{a: 1, b: $v}`` constant, as
    # long as any one part is.
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_reads_variables(v) for v in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_reads_variables(f.value) for f in value.fields)
    return False


class Compiler:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.strawberry: strawberry.Schema | None = getattr(schema, "_strawberry_schema", None)
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def fields(
        self, object_type: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> tuple[PlannedField, ...]:
        grouped: dict[str, list[FieldNode]] = {}
        for selection_set in selection_sets:
            self._collect(object_type, selection_set, grouped, set())
        planned = []
        for key, nodes in grouped.items():
            name = nodes[0].name.value
            if name == "__typename":
                definition = GraphQLField(
                    GraphQLNonNull(self.schema.type_map["String"]),  # type: ignore[arg-type]
                    resolve=_answer(object_type.name),
                )
            elif name.startswith("__"):
                raise NotCompiled("introspection")
            else:
                definition = object_type.fields[name]
            field = PlannedField(key, nodes, definition, object_type, self._direct(definition))
            field.shape = self.shape(
                definition.type, [n.selection_set for n in nodes if n.selection_set]
            )
            planned.append(field)
        return tuple(planned)

    def _direct(self, definition: GraphQLField) -> Callable[..., Any] | None:
        field = (definition.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
        if self.strawberry is None or not isinstance(field, StrawberryField):
            return None
        return direct_resolver(self.strawberry, field)

    def _collect(
        self,
        object_type: GraphQLObjectType,
        selection_set: SelectionSetNode,
        grouped: dict[str, list[FieldNode]],
        visited: set[str],
    ) -> None:
        for selection in selection_set.selections:
            if selection.directives:
                raise NotCompiled("directives")
            if isinstance(selection, FieldNode):
                key = selection.alias.value if selection.alias else selection.name.value
                grouped.setdefault(key, []).append(selection)
            elif isinstance(selection, InlineFragmentNode):
                if self._applies(selection.type_condition, object_type):
                    self._collect(object_type, selection.selection_set, grouped, visited)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments[name]
                if name not in visited and self._applies(fragment.type_condition, object_type):
                    visited.add(name)
                    self._collect(object_type, fragment.selection_set, grouped, visited)

    def _applies(self, condition: Any, object_type: GraphQLObjectType) -> bool:
        if condition is None:
            return True
        named = self.schema.get_type(condition.name.value)
        if isinstance(named, GraphQLInterfaceType | GraphQLUnionType):
            return self.schema.is_sub_type(named, object_type)
        return named is object_type

    def shape(self, type_: Any, selection_sets: list[SelectionSetNode]) -> Shape:
        shape = Shape(isinstance(type_, GraphQLNonNull))
        if shape.non_null:
            type_ = type_.of_type
        if isinstance(type_, GraphQLList):
            shape.item = self.shape(type_.of_type, selection_sets)
        elif is_leaf_type(type_):
            shape.leaf = type_
        elif is_object_type(type_):
            shape.object_type = type_
            shape.fields = self.fields(type_, selection_sets)
        else:
            shape.abstract = type_
            shape.runtime = {
                possible.name: (possible, self.fields(possible, selection_sets))
                for possible in self.schema.get_possible_types(type_)
            }
        return shape


class QueryPlan:
    """One query or mutation of one document, ready to run for any variables."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
    ) -> None:
        if operation.directives:
            raise NotCompiled("directives")
        if operation.operation is OperationType.QUERY:
            root = schema.query_type
        elif operation.operation is OperationType.MUTATION:
            root = schema.mutation_type
        else:
            raise NotCompiled("subscription")
        assert root is not None  # validation refuses an operation the schema has no root for
        compiler = Compiler(schema, document)
        self.schema = schema
        self.operation = operation
        self.serial = operation.operation is OperationType.MUTATION
        self.fragments = compiler.fragments
        self.fields = compiler.fields(root, [operation.selection_set])
        self.variables = VariableCoercion(schema, operation.variable_definitions or ())

    async def execute(self, variables: Mapping[str, Any] | None, context: Any) -> ExecutionResult:
        return await run_plan(self, variables, context)


def compile_query(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> QueryPlan | None:
    """The plan of ``operation``, or None when it must run on graphql-core."""
    try:
        return QueryPlan(schema, document, operation)
    except NotCompiled:
        return None

"""Query plans: a cached query's fields resolved against the schema once, so that each
request only runs the resolvers and shapes the answer.

For every request and every field, graphql-core's executor works out again what a cached
document has already settled: which fields each selection set collects once fragments
are merged, each field's definition, return type and literal arguments. It also carries
machinery this service does not use (incremental delivery, abort signals, async
iterables). For a member lookup of seven fields that was about half of the request's CPU.

A plan keeps graphql-core's rules for what it runs:

- resolvers get the same ``info`` and coerced arguments; strawberry's fields without a
  resolver are read as strawberry reads them, without building an ``info``;
- sibling fields and list items that wait are awaited together, so dataloaders batch;
- leaf values are coerced by their type; an object is checked with its ``is_type_of``;
- a field error is located at its path, and a null where the type forbids one goes up
  to the nearest nullable field, whose later errors are then dropped.

Queries only: mutations run their fields one after another, which graphql-core keeps.
Directives and introspection other than ``__typename`` are not compiled either; those
documents run on graphql-core.
"""

from __future__ import annotations

from asyncio import gather
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import date, time
from decimal import Decimal
from enum import Enum
from typing import Any, NamedTuple
from uuid import UUID

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    GraphQLUnionType,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
    Undefined,
    VariableNode,
    default_field_resolver,
    default_type_resolver,
    get_argument_values,
    is_leaf_type,
    is_object_type,
    located_error,
)
from graphql.execution.values import get_variable_values
from graphql.language import ListValueNode, ObjectValueNode, ValueNode
from graphql.pyutils import Path, inspect
from strawberry.execution.is_awaitable import optimized_is_awaitable

#: Leaf values are mostly ints and strings: strawberry's check answers those by type.
isawaitable = optimized_is_awaitable


class ResolveInfo(NamedTuple):
    """The ``info`` graphql-core gives resolvers under strawberry's execution context."""

    field_name: str
    field_nodes: list[FieldNode]
    return_type: GraphQLOutputType
    parent_type: GraphQLObjectType
    path: Path
    schema: GraphQLSchema
    fragments: dict[str, FragmentDefinitionNode]
    root_value: Any
    operation: OperationDefinitionNode
    variable_values: dict[str, Any]
    context: Any
    is_awaitable: Callable[[Any], bool]
    abort_signal: Any
    async_helpers: Any
    operation_extensions: dict[str, Any] | None


class NotCompiled(Exception):
    """The document uses something plans leave to graphql-core."""


class _Shape:
    """What a field's value completes to: a leaf, an object's fields, the fields of each
    object type an abstract type may turn out to be, or a list of shapes."""

    __slots__ = ("abstract", "fields", "item", "leaf", "non_null", "object_type", "runtime")

    def __init__(self, non_null: bool) -> None:
        self.non_null = non_null
        self.leaf: Any = None
        self.object_type: GraphQLObjectType | None = None
        self.fields: tuple[_Field, ...] = ()
        self.abstract: GraphQLInterfaceType | GraphQLUnionType | None = None
        self.runtime: dict[str, tuple[GraphQLObjectType, tuple[_Field, ...]]] = {}
        self.item: _Shape | None = None


class _Field:
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
    ) -> None:
        self.key = key
        self.name = nodes[0].name.value
        self.nodes = nodes
        self.definition = definition
        self.parent_type = parent_type
        resolve = definition.resolve
        # strawberry marks its resolver of a field without one: it reads the attribute
        # and ignores ``info``, so none is built for it.
        self.needs_info = not getattr(resolve, "_is_default", False)
        self.resolve: Callable[..., Any] = resolve or default_field_resolver
        self.arguments = _literal_arguments(definition, nodes[0])
        self.shape: _Shape = _Shape(False)


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
    if isinstance(value, VariableNode):
        return True
    if isinstance(value, ListValueNode):
        return any(_reads_variables(v) for v in value.values)
    if isinstance(value, ObjectValueNode):
        return any(_reads_variables(f.value) for f in value.fields)
    return False


class _Compiler:
    def __init__(self, schema: GraphQLSchema, document: DocumentNode) -> None:
        self.schema = schema
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def fields(
        self, object_type: GraphQLObjectType, selection_sets: Iterable[SelectionSetNode]
    ) -> tuple[_Field, ...]:
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
            field = _Field(key, nodes, definition, object_type)
            field.shape = self.shape(
                definition.type, [n.selection_set for n in nodes if n.selection_set]
            )
            planned.append(field)
        return tuple(planned)

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
        if named is object_type:
            return True
        return (
            named is not None
            and not is_object_type(named)
            and self.schema.is_sub_type(
                named,  # type: ignore[arg-type]
                object_type,
            )
        )

    def shape(self, type_: Any, selection_sets: list[SelectionSetNode]) -> _Shape:
        shape = _Shape(isinstance(type_, GraphQLNonNull))
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
    """One query operation of one document, ready to run for any variables."""

    def __init__(
        self, schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
    ) -> None:
        if operation.operation is not OperationType.QUERY or operation.directives:
            raise NotCompiled("not a query")
        root = schema.query_type
        assert root is not None
        compiler = _Compiler(schema, document)
        self.schema = schema
        self.operation = operation
        self.fragments = compiler.fragments
        self.fields = compiler.fields(root, [operation.selection_set])

    async def execute(self, variables: Mapping[str, Any] | None, context: Any) -> ExecutionResult:
        coerced = get_variable_values(
            self.schema, self.operation.variable_definitions or (), dict(variables or {}), 50
        )
        if isinstance(coerced, list):
            return ExecutionResult(data=None, errors=coerced)
        run = _Run(self, coerced, context)
        try:
            data = run.fields(self.fields, None, None)
            if isawaitable(data):
                data = await data
        except GraphQLError as error:
            run.record(error, None)
            data = None
        return ExecutionResult(data=data, errors=run.errors or None)


def compile_query(
    schema: GraphQLSchema, document: DocumentNode, operation: OperationDefinitionNode
) -> QueryPlan | None:
    """The plan of ``operation``, or None when it must run on graphql-core."""
    try:
        return QueryPlan(schema, document, operation)
    except NotCompiled:
        return None


class _Run:
    """One execution of a plan: its variables, context and errors."""

    __slots__ = ("_nulled", "context", "errors", "plan", "variables")

    def __init__(self, plan: QueryPlan, variables: Any, context: Any) -> None:
        self.plan = plan
        self.variables = variables
        self.context = context
        self.errors: list[GraphQLError] = []
        self._nulled: set[Path | None] = set()

    def record(self, error: GraphQLError, path: Path | None) -> None:
        """Keep ``error`` unless its position already went null through another error."""
        nulled = self._nulled
        if None in nulled:
            return
        position = path
        while position is not None:
            if position in nulled:
                return
            position = position.prev
        nulled.add(path)
        self.errors.append(error)

    def fail(self, raw: Exception, shape: _Shape, field: _Field, path: Path) -> None:
        error = located_error(raw, field.nodes, path.as_list())
        if shape.non_null:
            raise error
        self.record(error, path)

    def info(self, field: _Field, path: Path) -> ResolveInfo:
        plan = self.plan
        return ResolveInfo(
            field.name,
            field.nodes,
            field.definition.type,
            field.parent_type,
            path,
            plan.schema,
            plan.fragments,
            None,
            plan.operation,
            self.variables.coerced,
            self.context,
            optimized_is_awaitable,
            None,
            None,
            None,
        )

    def fields(
        self, fields: tuple[_Field, ...], source: Any, path: Path | None
    ) -> dict[str, Any] | Awaitable[dict[str, Any]]:
        data: dict[str, Any] = {}
        waiting: list[str] = []
        for field in fields:
            value = self.field(field, source, Path(path, field.key, field.parent_type.name))
            if isawaitable(value):
                waiting.append(field.key)
            data[field.key] = value
        if not waiting:
            return data
        return self._settle(data, waiting)

    async def _settle(self, data: dict[str, Any], waiting: list[str]) -> dict[str, Any]:
        if len(waiting) == 1:
            data[waiting[0]] = await data[waiting[0]]
            return data
        # Every sibling settles (and records its own errors) before a null goes up.
        values = await gather(*(data[key] for key in waiting), return_exceptions=True)
        failure: BaseException | None = None
        for key, value in zip(waiting, values, strict=True):
            if isinstance(value, BaseException):
                failure = failure or value
            data[key] = value
        if failure is not None:
            raise failure
        return data

    def field(self, field: _Field, source: Any, path: Path) -> Any:
        info = None
        try:
            if field.needs_info:
                info = self.info(field, path)
                arguments = field.arguments
                if arguments is None:
                    arguments = get_argument_values(
                        field.definition, field.nodes[0], self.variables
                    )
                result = field.resolve(source, info, **arguments)
            else:
                result = field.resolve(source, None)
            if isawaitable(result):
                return self._field_later(field, result, path, info)
            completed = self.complete(field.shape, field, result, path, info)
            if isawaitable(completed):
                return self._completed_later(field, completed, path)
            return completed
        except Exception as raw:
            return self.fail(raw, field.shape, field, path)

    async def _field_later(
        self, field: _Field, result: Awaitable[Any], path: Path, info: ResolveInfo | None
    ) -> Any:
        try:
            completed = self.complete(field.shape, field, await result, path, info)
            if isawaitable(completed):
                completed = await completed
            return completed
        except Exception as raw:
            return self.fail(raw, field.shape, field, path)

    async def _completed_later(self, field: _Field, completed: Awaitable[Any], path: Path) -> Any:
        try:
            return await completed
        except Exception as raw:
            return self.fail(raw, field.shape, field, path)

    def complete(
        self, shape: _Shape, field: _Field, result: Any, path: Path, info: ResolveInfo | None
    ) -> Any:
        if isinstance(result, Exception):
            raise result
        if result is None or result is Undefined:
            if shape.non_null:
                raise TypeError(
                    f"Cannot return null for non-nullable field {field.parent_type}.{field.name}."
                )
            return None
        if shape.leaf is not None:
            coerced = shape.leaf.coerce_output_value(result)
            if coerced is Undefined or coerced is None:
                raise TypeError(
                    f"Expected `{inspect(shape.leaf)}.coerce_output_value({inspect(result)})`"
                    f" to return non-nullable value, returned: {inspect(coerced)}"
                )
            return coerced
        if shape.object_type is not None:
            return self._object(shape.object_type, shape.fields, field, result, path, info)
        if shape.abstract is not None:
            return self._abstract(shape, field, result, path, info)
        return self._list(shape, field, result, path, info)

    def _object(
        self,
        object_type: GraphQLObjectType,
        fields: tuple[_Field, ...],
        field: _Field,
        result: Any,
        path: Path,
        info: ResolveInfo | None,
    ) -> Any:
        is_type_of = object_type.is_type_of
        if is_type_of is not None and not is_type_of(result, info or self.info(field, path)):
            raise GraphQLError(
                f"Expected value of type '{object_type.name}' but got: {inspect(result)}.",
                field.nodes,
            )
        return self.fields(fields, result, path)

    def _abstract(
        self, shape: _Shape, field: _Field, result: Any, path: Path, info: ResolveInfo | None
    ) -> Any:
        abstract = shape.abstract
        assert abstract is not None
        info = info or self.info(field, path)
        name = (abstract.resolve_type or default_type_resolver)(result, info, abstract)
        if isawaitable(name):
            return self._abstract_later(shape, field, result, path, info, name)
        object_type, fields = self._runtime_type(shape, field, name, result)
        return self._object(object_type, fields, field, result, path, info)

    async def _abstract_later(
        self,
        shape: _Shape,
        field: _Field,
        result: Any,
        path: Path,
        info: ResolveInfo,
        name: Awaitable[Any],
    ) -> Any:
        object_type, fields = self._runtime_type(shape, field, await name, result)
        completed = self._object(object_type, fields, field, result, path, info)
        return await completed if isawaitable(completed) else completed

    def _runtime_type(
        self, shape: _Shape, field: _Field, name: Any, result: Any
    ) -> tuple[GraphQLObjectType, tuple[_Field, ...]]:
        """The object type ``name`` and its fields, or graphql-core's error for a name that
        is none, not a name, or not a possible type of the field's abstract type."""
        runtime = shape.runtime.get(name) if isinstance(name, str) else None
        if runtime is not None:
            return runtime
        abstract = shape.abstract
        where = f"for field '{field.parent_type}.{field.name}'"
        if name is None:
            message = (
                f"Abstract type '{abstract}' must resolve to an Object type at runtime {where}."
                f" Either the '{abstract}' type should provide a 'resolve_type' function"
                " or each possible type should provide an 'is_type_of' function."
            )
        elif not isinstance(name, str):
            message = (
                f"Abstract type '{abstract}' must resolve to an Object type at runtime {where}"
                f" with value {inspect(result)}, received '{inspect(name)}',"
                " which is not a valid Object type name."
            )
        elif (named := self.plan.schema.get_type(name)) is None:
            message = (
                f"Abstract type '{abstract}' was resolved to a type '{name}'"
                " that does not exist inside the schema."
            )
        elif not is_object_type(named):
            message = f"Abstract type '{abstract}' was resolved to a non-object type '{name}'."
        else:
            message = f"Runtime Object type '{named}' is not a possible type for '{abstract}'."
        raise GraphQLError(message, field.nodes)

    def _list(
        self, shape: _Shape, field: _Field, result: Any, path: Path, info: ResolveInfo | None
    ) -> Any:
        if isinstance(result, str | bytes | Mapping) or not isinstance(result, Iterable):
            raise GraphQLError(
                "Expected Iterable, but did not find one for field"
                f" '{field.parent_type}.{field.name}'."
            )
        item_shape = shape.item
        assert item_shape is not None
        items: list[Any] = []
        waiting: list[int] = []
        for index, item in enumerate(result):
            item_path = Path(path, index, None)
            try:
                value = self.complete(item_shape, field, item, item_path, info)
                if isawaitable(value):
                    value = self._item_later(item_shape, field, value, item_path)
                    waiting.append(index)
            except Exception as raw:
                value = self.fail(raw, item_shape, field, item_path)
            items.append(value)
        if not waiting:
            return items
        return self._settle_items(items, waiting)

    async def _item_later(
        self, shape: _Shape, field: _Field, completed: Awaitable[Any], path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw:
            return self.fail(raw, shape, field, path)

    async def _settle_items(self, items: list[Any], waiting: list[int]) -> list[Any]:
        values = await gather(*(items[i] for i in waiting), return_exceptions=True)
        failure: BaseException | None = None
        for index, value in zip(waiting, values, strict=True):
            if isinstance(value, BaseException):
                failure = failure or value
            items[index] = value
        if failure is not None:
            raise failure
        return items

"""Running a query plan (``hub.execution.query_plans``): resolvers called, values completed, errors
located and nulls propagated as graphql-core does."""

from __future__ import annotations

from asyncio import Future, ensure_future, gather
from collections.abc import Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any, NamedTuple

from graphql import (
    ExecutionResult,
    FieldNode,
    FragmentDefinitionNode,
    GraphQLError,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLSchema,
    OperationDefinitionNode,
    Undefined,
    default_type_resolver,
    get_argument_values,
    is_object_type,
    located_error,
)
from graphql.execution.values import get_variable_values
from graphql.pyutils import Path, inspect, is_iterable
from strawberry.execution.is_awaitable import optimized_is_awaitable

if TYPE_CHECKING:
    from hub.execution.query_plans import PlannedField, QueryPlan, Shape

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


async def run_plan(
    plan: QueryPlan, variables: Mapping[str, Any] | None, context: Any
) -> ExecutionResult:
    """Execute ``plan`` for ``variables``: bad variables are answered as graphql-core does."""
    given = dict(variables or {})
    coerced = plan.variables.coerce(given) or get_variable_values(
        plan.schema, plan.operation.variable_definitions or (), given, 50
    )
    if isinstance(coerced, list):
        return ExecutionResult(data=None, errors=coerced)
    run = PlanRun(plan, coerced, context)
    try:
        if plan.serial:
            data = await run.serial_fields(plan.fields)
        else:
            data = run.fields(plan.fields, None, None)
            if isawaitable(data):
                data = await data
    except GraphQLError as error:
        run.record(error, None)
        data = None
    return ExecutionResult(data=data, errors=run.errors or None)


class PlanRun:
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

    def fail(self, raw: Exception, shape: Shape, field: PlannedField, path: Path) -> None:
        error = located_error(raw, field.nodes, path.as_list())
        if shape.non_null:
            raise error
        self.record(error, path)

    def info(self, field: PlannedField, path: Path) -> ResolveInfo:
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
        self, fields: tuple[PlannedField, ...], source: Any, path: Path | None
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

    async def serial_fields(self, fields: tuple[PlannedField, ...]) -> dict[str, Any]:
        """The root fields of a mutation, each settled before the next one starts."""
        data: dict[str, Any] = {}
        for field in fields:
            value = self.field(field, None, Path(None, field.key, field.parent_type.name))
            data[field.key] = await value if isawaitable(value) else value
        return data

    async def _settle(self, values: Any, waiting: list[Any]) -> Any:
        """Await ``values``' entries at ``waiting`` (an object's keys or a list's indices)
        together, in place."""
        if len(waiting) == 1:
            values[waiting[0]] = await values[waiting[0]]
            return values
        # Every sibling settles (and records its own errors) before a null goes up. The
        # error that goes up is the one raised first, as graphql-core's gather answers it.
        failures: list[BaseException] = []

        def note(future: Future[Any]) -> None:
            if not future.cancelled() and future.exception() is not None:
                failures.append(future.exception())  # type: ignore[arg-type]

        futures = [ensure_future(values[at]) for at in waiting]
        for future in futures:
            future.add_done_callback(note)
        settled = await gather(*futures, return_exceptions=True)
        for at, value in zip(waiting, settled, strict=True):
            values[at] = value
        if failures:
            raise failures[0]
        return values

    def field(self, field: PlannedField, source: Any, path: Path) -> Any:
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
                return self._completed_later(field.shape, field, completed, path)
            return completed
        except Exception as raw:
            return self.fail(raw, field.shape, field, path)

    async def _field_later(
        self, field: PlannedField, result: Awaitable[Any], path: Path, info: ResolveInfo | None
    ) -> Any:
        try:
            completed = self.complete(field.shape, field, await result, path, info)
            if isawaitable(completed):
                completed = await completed
            return completed
        except Exception as raw:
            return self.fail(raw, field.shape, field, path)

    async def _completed_later(
        self, shape: Shape, field: PlannedField, completed: Awaitable[Any], path: Path
    ) -> Any:
        """A field's or a list item's completion that waits; its error handled at ``path``."""
        try:
            return await completed
        except Exception as raw:
            return self.fail(raw, shape, field, path)

    def complete(
        self, shape: Shape, field: PlannedField, result: Any, path: Path, info: ResolveInfo | None
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
        fields: tuple[PlannedField, ...],
        field: PlannedField,
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
        self, shape: Shape, field: PlannedField, result: Any, path: Path, info: ResolveInfo | None
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
        shape: Shape,
        field: PlannedField,
        result: Any,
        path: Path,
        info: ResolveInfo,
        name: Awaitable[Any],
    ) -> Any:
        object_type, fields = self._runtime_type(shape, field, await name, result)
        completed = self._object(object_type, fields, field, result, path, info)
        return await completed if isawaitable(completed) else completed

    def _runtime_type(
        self, shape: Shape, field: PlannedField, name: Any, result: Any
    ) -> tuple[GraphQLObjectType, tuple[PlannedField, ...]]:
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
        self, shape: Shape, field: PlannedField, result: Any, path: Path, info: ResolveInfo | None
    ) -> Any:
        if not is_iterable(result):
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
                    value = self._completed_later(item_shape, field, value, item_path)
                    waiting.append(index)
            except Exception as raw:
                value = self.fail(raw, item_shape, field, item_path)
            items.append(value)
        if not waiting:
            return items
        return self._settle(items, waiting)

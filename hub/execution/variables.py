"""A plan's variables coerced by functions compiled once from their types.

graphql-core coerces a variable by walking its type on every request: each value of a
batch of 500 purchases asks again whether its type is a list, an input object or a leaf,
and a second walk checks first that the value is not nested too deeply. A plan's
variables have the same types on every request, so ``VariableCoercion`` builds, once, a
function per type that does only what that type needs, and coerces as
``coerce_input_value`` does (the same leaf parsers, defaults, out names and out types).

It answers None, and graphql-core coerces, whenever anything is unusual: a variable left
out (its default or its absence is graphql-core's to decide), a value that does not
coerce (graphql-core then words the errors), a ``@oneOf`` input, or an input type that
contains itself (only such a type lets a value nest deeper than graphql-core allows).
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from graphql import (
    GraphQLError,
    GraphQLInputObjectType,
    GraphQLInputType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLSchema,
    Undefined,
    VariableDefinitionNode,
    assert_leaf_type,
)
from graphql.execution.get_variable_signature import GraphQLVariableSignature
from graphql.execution.values import (
    VariableValues,
    VariableValueSource,
    get_variable_signature,
)
from graphql.pyutils import is_iterable
from graphql.type import is_required_input_field
from graphql.utilities.coerce_input_value import coerce_default_value

#: Answers a value's coercion, or Undefined when it does not coerce.
Coerce = Callable[[Any], Any]


class NotCompiled(Exception):
    """The type is left to graphql-core."""


class VariableCoercion:
    """The coercion of one operation's variables."""

    def __init__(
        self, schema: GraphQLSchema, definitions: Collection[VariableDefinitionNode]
    ) -> None:
        self._variables: list[tuple[GraphQLVariableSignature, Coerce]] | None = []
        for definition in definitions:
            signature = get_variable_signature(schema, definition)
            try:
                if isinstance(signature, GraphQLError):
                    raise NotCompiled(signature.message)
                self._variables.append((signature, _coercion(signature.type, frozenset())))
            except NotCompiled:
                self._variables = None
                return

    def coerce(self, inputs: Mapping[str, Any]) -> VariableValues | None:
        """What ``get_variable_values`` answers for ``inputs``, or None to ask it."""
        if self._variables is None:
            return None
        sources: dict[str, VariableValueSource] = {}
        coerced: dict[str, Any] = {}
        for signature, coerce in self._variables:
            value = inputs.get(signature.name, Undefined)
            if value is Undefined:
                return None
            sources[signature.name] = VariableValueSource(signature, value)
            result = coerce(value)
            if result is Undefined:
                return None
            coerced[signature.name] = result
        return VariableValues(sources, coerced)


def _coercion(type_: GraphQLInputType, enclosing: frozenset[str]) -> Coerce:
    if isinstance(type_, GraphQLNonNull):
        inner = _nullable_coercion(type_.of_type, enclosing)

        def non_null(value: Any) -> Any:
            if value is None or value is Undefined:
                return Undefined
            return inner(value)

        return non_null
    inner = _nullable_coercion(type_, enclosing)

    def nullable(value: Any) -> Any:
        if value is None or value is Undefined:
            return None
        return inner(value)

    return nullable


def _nullable_coercion(type_: GraphQLInputType, enclosing: frozenset[str]) -> Coerce:
    """The coercion of a value of ``type_`` that is not null."""
    if isinstance(type_, GraphQLList):
        return _list_coercion(_coercion(type_.of_type, enclosing))
    if isinstance(type_, GraphQLInputObjectType):
        return _object_coercion(type_, enclosing)
    parse = assert_leaf_type(type_).coerce_input_value

    def leaf(value: Any) -> Any:
        try:
            return parse(value)
        except Exception:  # as graphql-core: any failure means the value does not coerce
            return Undefined

    return leaf


def _list_coercion(item: Coerce) -> Coerce:
    def list_of(value: Any) -> Any:
        if not is_iterable(value):
            # A non-list value is a list of one.
            single = item(value)
            return Undefined if single is Undefined else [single]
        coerced = []
        for each in value:
            result = item(each)
            if result is Undefined:
                return Undefined
            coerced.append(result)
        return coerced

    return list_of


def _object_coercion(type_: GraphQLInputObjectType, enclosing: frozenset[str]) -> Coerce:
    if type_.is_one_of or type_.name in enclosing:
        raise NotCompiled(type_.name)
    inside = enclosing | {type_.name}
    fields = [
        (name, field.out_name or name, _coercion(field.type, inside), field)
        for name, field in type_.fields.items()
    ]
    required = {name for name, field in type_.fields.items() if is_required_input_field(field)}
    known = frozenset(type_.fields)
    out_type = type_.out_type

    def input_object(value: Any) -> Any:
        if not isinstance(value, dict):
            return Undefined
        for name, given in value.items():
            if name not in known and given is not Undefined:
                return Undefined
        coerced: dict[str, Any] = {}
        for name, out_name, coerce, field in fields:
            given = value.get(name, Undefined)
            if given is Undefined:
                if name in required:
                    return Undefined
                default = coerce_default_value(field)
                if default is not Undefined:
                    coerced[out_name] = default
                continue
            result = coerce(given)
            if result is Undefined:
                return Undefined
            coerced[out_name] = result
        return out_type(coerced)

    return input_object

"""Query limits, enforced before execution: depth, aliases, tokens, cost, introspection.

Depth and aliases are validation rules (aliases are counted through fragment spreads, so
hiding them in nested fragments does not get past the limit). Tokens bound the parser.
The cost estimate multiplies each list field's subtree by its page size (``first``), so
``members(first: 100) { purchases(first: 100) { … } }`` costs what it would fetch. A
``first`` counts however it is given: a literal, a variable (its value, else its
definition's default), or left out (the field's own default from the schema).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    Undefined,
    ValidationRule,
    VariableNode,
    get_named_type,
    value_from_ast_untyped,
)
from strawberry.extensions.max_aliases import create_validator as alias_rule
from strawberry.extensions.query_depth_limiter import create_validator as depth_rule


@dataclass(frozen=True)
class QueryLimits:
    max_depth: int = 15
    max_aliases: int = 30
    max_tokens: int = 5_000
    max_cost: int = 25_000
    max_page_size: int = 100
    #: Page size assumed for a list field that names no ``first``.
    default_page_size: int = 20


def limit_rules(limits: QueryLimits) -> list[type[ValidationRule]]:
    return [depth_rule(limits.max_depth, None), alias_rule(limits.max_aliases)]


class CostExceeded(Exception):
    pass


def _whole(value: Any) -> int | None:
    """``value`` as a page size, as GraphQL's Int coerces it (1000.0 is 1000)."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return None


@dataclass(frozen=True)
class _Walk:
    """What the cost walk reads besides the selection it is at."""

    schema: GraphQLSchema | None
    fragments: Mapping[str, FragmentDefinitionNode]
    variables: Mapping[str, Any]
    limits: QueryLimits


def _page_size(field: FieldNode, definition: GraphQLField | None, walk: _Walk) -> int | None:
    """The ``first`` a field asks for; None when it takes no ``first``."""
    declared = definition.args.get("first") if definition is not None else None
    given = next((a.value for a in field.arguments or () if a.name.value == "first"), None)
    if declared is None and given is None:
        return None
    default = declared.default_value if declared is not None else Undefined
    fallback = _whole(default)
    if fallback is None:
        fallback = walk.limits.default_page_size
    if given is None:
        return fallback
    if isinstance(given, IntValueNode):
        return int(given.value)
    if isinstance(given, VariableNode):
        size = _whole(walk.variables.get(given.name.value))
        return fallback if size is None else size
    return fallback


def _variables(operation: OperationDefinitionNode, given: Mapping[str, Any]) -> dict[str, Any]:
    """The operation's variables: the given values, else their definitions' defaults."""
    values: dict[str, Any] = {}
    for definition in operation.variable_definitions or ():
        name = definition.variable.name.value
        if name in given:
            values[name] = given[name]
        elif definition.default_value is not None:
            values[name] = value_from_ast_untyped(definition.default_value)
    return values


def query_cost(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
    limits: QueryLimits,
    schema: GraphQLSchema | None = None,
) -> int:
    """Fields the operation may resolve: each field 1, a paged field's subtree times ``first``.

    With the ``schema``, a field that takes a ``first`` and is given none counts its
    default. Raises CostExceeded when a ``first`` is over the page-size limit.
    """
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    walk = _Walk(schema, fragments, _variables(operation, variables), limits)
    root = schema.get_root_type(operation.operation) if schema is not None else None
    return _cost(operation.selection_set, root, frozenset(), walk)


def _named(walk: _Walk, name: str) -> GraphQLNamedType | None:
    return walk.schema.get_type(name) if walk.schema is not None else None


# A module function, not a closure that calls itself: such a closure is a reference cycle,
# left to the garbage collector on every request.
def _cost(
    selection_set: SelectionSetNode | None,
    parent: GraphQLNamedType | None,
    seen: frozenset[str],
    walk: _Walk,
) -> int:
    if selection_set is None:
        return 0
    total = 0
    limits = walk.limits
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            definition = (
                parent.fields.get(selection.name.value)
                if isinstance(parent, GraphQLObjectType | GraphQLInterfaceType)
                else None
            )
            page = _page_size(selection, definition, walk)
            if page is not None and page > limits.max_page_size:
                raise CostExceeded(
                    f"`first` is {page} on {selection.name.value}; at most "
                    f"{limits.max_page_size} per page"
                )
            inner_type = get_named_type(definition.type) if definition is not None else None
            inner = _cost(selection.selection_set, inner_type, seen, walk)
            total += 1 + (page or 1) * inner
        elif isinstance(selection, InlineFragmentNode):
            condition = selection.type_condition
            inner_type = _named(walk, condition.name.value) if condition is not None else parent
            total += _cost(selection.selection_set, inner_type, seen, walk)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = walk.fragments.get(name)
            if fragment is not None and name not in seen:
                inner_type = _named(walk, fragment.type_condition.name.value)
                total += _cost(fragment.selection_set, inner_type, seen | {name}, walk)
    return total


def uses_introspection(document: DocumentNode) -> bool:
    """True when the document asks for ``__schema`` or ``__type`` (``__typename`` is fine)."""

    def walk(selection_set: SelectionSetNode | None) -> bool:
        if selection_set is None:
            return False
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                if selection.name.value in ("__schema", "__type"):
                    return True
                if walk(selection.selection_set):
                    return True
            elif isinstance(selection, InlineFragmentNode) and walk(selection.selection_set):
                return True
        return False

    return any(
        walk(d.selection_set)
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode | FragmentDefinitionNode)
    )

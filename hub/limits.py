"""Query limits, enforced before execution: depth, aliases, tokens, cost, introspection.

Depth and aliases are validation rules (aliases are counted through fragment spreads, so
hiding them in nested fragments does not get past the limit). Tokens bound the parser.
The cost estimate multiplies each list field's subtree by its page size (``first``), so
``members(first: 100) { purchases(first: 100) { … } }`` costs what it would fetch.
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
    InlineFragmentNode,
    IntValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationRule,
    VariableNode,
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


def _page_size(field: FieldNode, variables: Mapping[str, Any], limits: QueryLimits) -> int | None:
    """The ``first`` a field asks for; None when it takes no ``first``."""
    for argument in field.arguments or ():
        if argument.name.value != "first":
            continue
        value = argument.value
        if isinstance(value, IntValueNode):
            return int(value.value)
        if isinstance(value, VariableNode):
            given = variables.get(value.name.value)
            return int(given) if isinstance(given, int) else limits.default_page_size
        return limits.default_page_size
    return None


def query_cost(
    document: DocumentNode,
    operation: OperationDefinitionNode,
    variables: Mapping[str, Any],
    limits: QueryLimits,
) -> int:
    """Fields the operation may resolve: each field 1, a paged field's subtree times ``first``.

    Raises CostExceeded when a ``first`` is over the page-size limit.
    """
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    return _cost(operation.selection_set, frozenset(), fragments, variables, limits)


# A module function, not a closure that calls itself: such a closure is a reference cycle,
# left to the garbage collector on every request.
def _cost(
    selection_set: SelectionSetNode | None,
    seen: frozenset[str],
    fragments: Mapping[str, FragmentDefinitionNode],
    variables: Mapping[str, Any],
    limits: QueryLimits,
) -> int:
    if selection_set is None:
        return 0
    total = 0
    for selection in selection_set.selections:
        if isinstance(selection, FieldNode):
            page = _page_size(selection, variables, limits)
            if page is not None and page > limits.max_page_size:
                raise CostExceeded(
                    f"`first` is {page} on {selection.name.value}; at most "
                    f"{limits.max_page_size} per page"
                )
            inner = _cost(selection.selection_set, seen, fragments, variables, limits)
            total += 1 + (page or 1) * inner
        elif isinstance(selection, InlineFragmentNode):
            total += _cost(selection.selection_set, seen, fragments, variables, limits)
        elif isinstance(selection, FragmentSpreadNode):
            name = selection.name.value
            fragment = fragments.get(name)
            if fragment is not None and name not in seen:
                total += _cost(fragment.selection_set, seen | {name}, fragments, variables, limits)
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

"""The bounds every input value keeps, checked once for every field at the API's edge.

graphql-core coerces a ``String`` holding a NUL byte and strawberry's ``Decimal`` accepts
``NaN``, ``Infinity`` and ``1e309``: values no column can hold, that turn a comparison or an
insert into a fault. ``input_problems`` walks the arguments a resolver receives (inputs,
their nested inputs and lists) and names every value out of bounds, so the resolver can
answer them as INVALID_INPUT user errors before anything is written. The string lengths
here are the same as the CHECK constraints of the tables that store them (migration 0010).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from functools import cache
from typing import Any

from strawberry.schema.name_converter import NameConverter
from strawberry.types.base import has_object_definition

#: Longest value, in characters, of a string input by its GraphQL name (field or argument).
MAX_LENGTHS: Mapping[str, int] = {
    "storeId": 64,
    "receiptNo": 100,
    "refundNo": 100,
    "operatorId": 64,
    "sku": 64,
    "category": 100,
    "idempotencyKey": 200,
    "reason": 500,
    "note": 1000,
    "description": 1000,
    "name": 100,
    "region": 100,
    "value": 256,
    "namespace": 64,
    "values": 200,
    "tierCode": 64,
    "appId": 64,
    "code": 512,
    "url": 2048,
    "after": 256,
    "eventId": 128,
    "query": 200,
}
#: Any other string input (IDs, cursors, event names).
DEFAULT_MAX_LENGTH = 256
#: Every decimal input (amounts, prices) lies strictly between these, with at most
#: ``MAX_DECIMAL_PLACES`` places; the points such an amount earns fit a ledger entry.
MAX_DECIMAL = Decimal("100000000")
MAX_DECIMAL_PLACES = 6
#: The largest number of points one request may move (an adjustment, a redemption).
MAX_POINTS = 10_000_000
#: Integer inputs named here are points, bounded by ``MAX_POINTS``.
POINTS_FIELDS = frozenset({"points"})

_names = NameConverter()


@dataclass(frozen=True)
class InputProblem:
    path: tuple[str, ...]
    message: str


def max_length(name: str) -> int:
    return MAX_LENGTHS.get(name, DEFAULT_MAX_LENGTH)


def camel(python_name: str) -> str:
    head, *rest = python_name.split("_")
    return head + "".join(part.capitalize() for part in rest)


@cache
def _input_fields(cls: type) -> tuple[tuple[str, str], ...]:
    """(python name, GraphQL name) of an input type's fields."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    return tuple((f.python_name, _names.from_field(f)) for f in definition.fields)


def _decimal_problem(value: Decimal) -> str | None:
    if not value.is_finite():
        return "must be a finite number"
    exponent = value.as_tuple().exponent
    assert isinstance(exponent, int)
    if exponent < -MAX_DECIMAL_PLACES:
        return f"has more than {MAX_DECIMAL_PLACES} decimal places"
    # ``adjusted`` reads the exponent: no arithmetic on a value with a huge one.
    if value.adjusted() >= MAX_DECIMAL.adjusted() or abs(value) >= MAX_DECIMAL:
        return f"must lie between -{MAX_DECIMAL} and {MAX_DECIMAL}"
    return None


def _collect(value: Any, name: str, path: tuple[str, ...], found: list[InputProblem]) -> None:
    """Append to ``found`` every problem of ``value`` (named ``name``, at ``path``). A plain
    recursive walk: a generator per value cost a till's batch of purchases a fortieth of its
    CPU."""
    if value is None:
        return
    if isinstance(value, str):
        if "\x00" in value:
            found.append(InputProblem(path, f"{name} must not contain NUL characters"))
        elif len(value) > max_length(name):
            found.append(InputProblem(path, f"{name} takes at most {max_length(name)} characters"))
    elif isinstance(value, bool):
        return
    elif isinstance(value, int):
        if name in POINTS_FIELDS and abs(value) > MAX_POINTS:
            found.append(
                InputProblem(path, f"{name} must lie between -{MAX_POINTS} and {MAX_POINTS}")
            )
    elif isinstance(value, Decimal):
        problem = _decimal_problem(value)
        if problem is not None:
            found.append(InputProblem(path, f"{name} {problem}"))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _collect(item, name, (*path, str(index)), found)
    elif has_object_definition(type(value)):
        for python_name, graphql_name in _input_fields(type(value)):
            _collect(getattr(value, python_name, None), graphql_name, (*path, graphql_name), found)


def input_problems(arguments: Mapping[str, Any]) -> list[InputProblem]:
    """Every value out of bounds in a resolver's arguments (by Python name), with its path
    from the argument (``["input", "items", "0", "sku"]``)."""
    found: list[InputProblem] = []
    for python_name, value in arguments.items():
        name = camel(python_name)
        _collect(value, name, (name,), found)
    return found

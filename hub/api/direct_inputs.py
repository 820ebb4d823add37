"""Input types built from their GraphQL value directly, through strawberry's ``from_input``.

Strawberry converts an input value field by field, resolving each field's type and GraphQL
name again on every request. graphql-core has already coerced every scalar and enum (an
enum to its member, a ``Decimal`` or ``DateTime`` to its Python value), so for those that
conversion returns each value as it is. An input decorated here is built with one
constructor call; its nested inputs, and lists of them, must be decorated too. A batch of
500 purchases with their items spent a seventh of its request's CPU in strawberry's
conversion, and ``IdentityInput`` is in every lookup a till or mini-program makes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from strawberry.relay.types import GlobalID
from strawberry.schema.name_converter import NameConverter
from strawberry.types.arguments import InputContext
from strawberry.types.base import (
    StrawberryList,
    StrawberryMaybe,
    StrawberryOptional,
    has_object_definition,
)
from strawberry.types.enum import StrawberryEnumDefinition, has_enum_definition
from strawberry.types.lazy_type import LazyType

T = TypeVar("T")
#: Builds a field's Python value from its GraphQL value; None for values kept as they are.
Convert = Callable[[Any, InputContext], Any] | None


def value_converter(type_: Any, owner: str) -> Convert:
    """How to build a value of ``type_`` from its GraphQL value; TypeError for types this
    module cannot build directly (``owner`` names the field in that error)."""
    if isinstance(type_, StrawberryMaybe | LazyType) or type_ is GlobalID:
        raise TypeError(f"{owner} is not a scalar, an enum or a directly built input")
    if isinstance(type_, StrawberryOptional):
        inner = value_converter(type_.of_type, owner)
        if inner is None:
            return None
        return lambda value, context: None if value is None else inner(value, context)
    if isinstance(type_, StrawberryList):
        item = value_converter(type_.of_type, owner)
        if item is None:
            return lambda value, context: list(value)  # a copy, as strawberry makes
        return lambda value, context: [None if v is None else item(v, context) for v in value]
    if isinstance(type_, StrawberryEnumDefinition) or has_enum_definition(type_):
        return None
    if has_object_definition(type_):
        build = type_.__strawberry_definition__.from_input
        if build is None:
            raise TypeError(f"{owner}: decorate {type_.__name__} with direct_input first")
        return lambda value, context: build(type_, value, context)
    return None


def direct_input(cls: type[T]) -> type[T]:
    """Build ``cls`` (a ``strawberry.input``) from its value with one constructor call."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    names = NameConverter()  # the schema's default: camelCase unless a field names itself
    fields: list[tuple[str, str, Convert]] = []
    none_when_missing: list[str] = []
    for field in definition.fields:
        convert = value_converter(field.type, f"{cls.__name__}.{field.python_name}")
        fields.append((names.from_field(field), field.python_name, convert))
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            # As strawberry does: a nullable field without a default is None when omitted.
            none_when_missing.append(field.python_name)

    def build(type_: type, value: Mapping[str, Any], context: InputContext) -> Any:
        kwargs = dict.fromkeys(none_when_missing)
        for graphql_name, python_name, convert in fields:
            if graphql_name in value:
                given = value[graphql_name]
                kwargs[python_name] = given if convert is None else convert(given, context)
        return type_(**kwargs)

    definition.from_input = build
    return cls

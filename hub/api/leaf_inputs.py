"""Input types whose fields are all scalars or enums, built with one constructor call.

Strawberry converts an input value field by field, resolving each field's type and GraphQL
name again on every request. For fields that are scalars or enums graphql-core has already
coerced every value (an enum to its member), so that conversion returns each value as it
is; this builds the instance from the value directly instead, through the definition's
``from_input`` hook. ``IdentityInput`` is in every lookup a till or mini-program makes.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
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


def _is_leaf(type_: Any) -> bool:
    if isinstance(type_, StrawberryMaybe | StrawberryList | LazyType) or type_ is GlobalID:
        return False
    if isinstance(type_, StrawberryOptional):
        return _is_leaf(type_.of_type)
    if isinstance(type_, StrawberryEnumDefinition) or has_enum_definition(type_):
        return True
    return not has_object_definition(type_)


def leaf_input(cls: type[T]) -> type[T]:
    """Build ``cls`` (a ``strawberry.input`` of scalar and enum fields) from its value."""
    definition = cls.__strawberry_definition__  # type: ignore[attr-defined]
    names = NameConverter()  # the schema's default: camelCase unless a field names itself
    fields: list[tuple[str, str]] = []
    none_when_missing: list[str] = []
    for field in definition.fields:
        if not _is_leaf(field.type):
            raise TypeError(f"{cls.__name__}.{field.python_name} is not a scalar or an enum")
        fields.append((names.from_field(field), field.python_name))
        if field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            # As strawberry does: a nullable field without a default is None when omitted.
            none_when_missing.append(field.python_name)

    def build(type_: type, value: Mapping[str, Any], context: InputContext) -> Any:
        kwargs = dict.fromkeys(none_when_missing)
        for graphql_name, python_name in fields:
            if graphql_name in value:
                kwargs[python_name] = value[graphql_name]
        return type_(**kwargs)

    definition.from_input = build
    return cls

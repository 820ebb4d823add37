"""Strawberry resolvers called as strawberry calls them, without its per-call wrapping.

On every call, the resolver strawberry hands graphql-core (``from_resolver``) looks up
each argument's GraphQL name through the name converter, converts its value by walking
the argument's type, asks the resolver again which reserved parameters it takes (self,
root, parent, info) and threads the call through the field's extension chain. For a
field without extensions, in a schema without exception handlers, all of that answers
the same on every call: here it is worked out once per field, and a call converts the
values and calls the function (``bench.lookup_cpu`` measures what that saves).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import strawberry
from strawberry.types.arguments import InputContext, convert_argument
from strawberry.types.field import StrawberryField

from hub.api.direct_inputs import Convert, value_converter


def _argument_converter(type_: Any, owner: str) -> Convert:
    try:
        return value_converter(type_, owner)
    except TypeError:  # global IDs, Maybe, lazy types, inputs strawberry builds itself

        def convert(value: Any, context: InputContext) -> Any:
            return convert_argument(
                value,
                type_,
                context.scalar_registry,
                context.config,
                context.info,
                path=context.path,
            )

        return convert


def direct_resolver(schema: strawberry.Schema, field: StrawberryField) -> Callable[..., Any] | None:
    """A graphql-core resolver ``(source, info, **arguments)`` for ``field`` that answers
    what strawberry's would, or None when strawberry's own wrapping must run."""
    resolver = field.base_resolver
    if (
        resolver is None
        or field.extensions
        or field.is_subscription
        or type(field).get_result is not StrawberryField.get_result  # a field class of its own
        or getattr(schema, "exception_handlers", ())  # not every supported release has them
        or not callable(resolver.wrapped_func)
    ):
        return None
    function = resolver.wrapped_func
    config = schema.config
    registry = schema.schema_converter.scalar_registry
    info_class = config.info_class
    arguments = tuple(
        (
            config.name_converter.from_argument(argument),
            argument.python_name,
            _argument_converter(argument.type, f"{field.python_name}({argument.python_name})"),
        )
        for argument in field.arguments
    )
    takes_self = resolver.self_parameter is not None
    source_names = tuple(
        parameter.name
        for parameter in (resolver.parent_parameter, resolver.root_parameter)
        if parameter is not None
    )
    info_name = resolver.info_parameter.name if resolver.info_parameter is not None else None

    def resolve(source: Any, info: Any, **values: Any) -> Any:
        strawberry_info = info_class(_raw_info=info, _field=field)
        kwargs: dict[str, Any] = {}
        for graphql_name, python_name, convert in arguments:
            if graphql_name in values:
                value = values[graphql_name]
                if convert is not None:
                    context = InputContext(
                        info=strawberry_info,
                        config=config,
                        scalar_registry=registry,
                        path=(graphql_name,),
                    )
                    value = convert(value, context)
                kwargs[python_name] = value
        for name in source_names:
            kwargs[name] = source
        if info_name is not None:
            kwargs[info_name] = strawberry_info
        return function(source, **kwargs) if takes_self else function(**kwargs)

    return resolve

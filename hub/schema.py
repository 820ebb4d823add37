"""The served schema, assembled from the area modules. ``memberhub schema`` prints it."""

from __future__ import annotations

import strawberry
from graphql import GraphQLError
from strawberry.extensions import MaskErrors

from hub.api.node import Node, resolve_node


def _should_mask(error: GraphQLError) -> bool:
    # Errors we raise for clients are GraphQLErrors; anything else is a fault: hide it.
    original = error.original_error
    return original is not None and not isinstance(original, GraphQLError)


@strawberry.type
class Query:
    node: Node | None = strawberry.field(resolver=resolve_node)


def build_schema() -> strawberry.Schema:
    return strawberry.Schema(
        query=Query,
        extensions=[lambda: MaskErrors(should_mask_error=_should_mask)],
    )


def schema_sdl() -> str:
    return build_schema().as_str() + "\n"

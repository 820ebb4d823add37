"""The Relay ``Node`` interface and ``node(id)``: each area registers how to load its type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import strawberry

from hub.ids import InvalidGlobalId, decode_id


@strawberry.interface
class Node:
    id: strawberry.ID


NodeLoader = Callable[[strawberry.Info, str], Awaitable[Any]]

#: Type name -> loader of that type by key; filled by the area modules.
NODE_LOADERS: dict[str, NodeLoader] = {}


def node_loader(type_name: str) -> Callable[[NodeLoader], NodeLoader]:
    def register(loader: NodeLoader) -> NodeLoader:
        NODE_LOADERS[type_name] = loader
        return loader

    return register


async def resolve_node(info: strawberry.Info, id: strawberry.ID) -> Node | None:
    try:
        type_name, key = decode_id(id)
    except InvalidGlobalId:
        return None
    loader = NODE_LOADERS.get(type_name)
    return None if loader is None else await loader(info, key)


@strawberry.type
class NodeQuery:
    node: Node | None = strawberry.field(resolver=resolve_node)

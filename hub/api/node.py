"""The Relay ``Node`` interface and ``node(id)``: each area registers how to load its type."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import strawberry

from hub.ids import InvalidGlobalId, decode_id, encode_id


@strawberry.interface
class Node:
    id: strawberry.ID


N = TypeVar("N", bound=Node)


def node_object(cls: type[N], type_name: str, record: Any, /, **given: Any) -> N:
    """A ``cls`` showing ``record``: its global id of ``type_name``, and each other field the
    record's attribute of the same name, but for the fields ``given`` (the record itself,
    values converted for the API)."""
    shown = {name: getattr(record, name) for name in _fields(cls) if name not in given}
    return cls(id=strawberry.ID(encode_id(type_name, record.id)), **shown, **given)


@functools.cache
def _fields(cls: type) -> tuple[str, ...]:
    return tuple(f.name for f in dataclasses.fields(cls) if f.init and f.name != "id")


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

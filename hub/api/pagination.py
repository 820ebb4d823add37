"""Relay connection pieces shared by every list that can grow without bound.

``Connection[T]`` and ``Edge[T]`` are strawberry generics: ``Connection[PurchaseObject]`` is
served as ``PurchaseConnection`` with ``PurchaseEdge`` edges, named after the node type. A
list that also counts its rows subclasses its specialised connection and adds ``totalCount``.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from typing import Any, Generic, TypeVar

import strawberry
from graphql import GraphQLError

#: The largest page any connection serves.
MAX_PAGE = 200


@strawberry.type
class PageInfo:
    """Relay's PageInfo. Lists page forwards (``first``/``after``): ``hasPreviousPage`` says
    whether the page was asked for after a cursor, i.e. whether rows come before it."""

    has_next_page: bool
    end_cursor: str | None
    has_previous_page: bool = False
    start_cursor: str | None = None

    @classmethod
    def of(cls, cursors: list[str], *, has_next: bool, after: str | None) -> PageInfo:
        """The page info of a forward page whose edges carry ``cursors``."""
        return cls(
            has_next_page=has_next,
            end_cursor=cursors[-1] if cursors else None,
            has_previous_page=bool(after),
            start_cursor=cursors[0] if cursors else None,
        )


T = TypeVar("T")


@strawberry.type
class Edge(Generic[T]):
    node: T
    cursor: str


@strawberry.type
class Connection(Generic[T]):
    edges: list[Edge[T]]
    page_info: PageInfo


C = TypeVar("C")
R = TypeVar("R")


def forward_page(
    connection: Callable[..., C],
    edge: Callable[..., Any],
    kind: str,
    records: Iterable[R],
    node: Callable[[R], Any],
    *,
    has_next: bool,
    after: str | None,
) -> C:
    """The ``connection`` of a forward page of ``records`` (rows with an ``id``), each an
    ``edge`` of its ``node`` with a cursor of ``kind``."""
    edges = [edge(node=node(r), cursor=encode_cursor(kind, r.id)) for r in records]
    cursors = [e.cursor for e in edges]
    return connection(edges=edges, page_info=PageInfo.of(cursors, has_next=has_next, after=after))


def encode_cursor(kind: str, key: int) -> str:
    """An opaque cursor that stays valid while rows come and go (it names a key, not an
    offset)."""
    return base64.urlsafe_b64encode(f"{kind}:{key}".encode()).decode()


def decode_cursor(cursor: str, kind: str) -> int:
    try:
        found, _, key = base64.urlsafe_b64decode(cursor.encode()).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError, ValueError):
        found, key = "", ""
    if found != kind or not key.isdigit():
        raise GraphQLError(
            f"{cursor!r} is not a cursor of this list", extensions={"code": "INVALID_INPUT"}
        )
    return int(key)


def check_page_size(first: int) -> None:
    if not 0 <= first <= MAX_PAGE:
        raise GraphQLError(
            f"`first` must be between 0 and {MAX_PAGE}", extensions={"code": "INVALID_INPUT"}
        )

"""``text()`` statements run on asyncpg directly, and their rows as SQLAlchemy answers them.

Both the read pool and the sessions' fast path (``hub.db.driver_session``) run plain
``text()`` SQL without SQLAlchemy's execution machinery: the statement is translated to
asyncpg's ``$n`` form once, and its answer reads as SQLAlchemy's results do (``row.column``,
``.one()``, ``.scalars().all()``, ``.rowcount``, the same exceptions), so code written
against those runs unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any, Generic, TypeVar

import asyncpg
from sqlalchemy import exc
from sqlalchemy.sql.elements import TextClause

T = TypeVar("T")

# SQLAlchemy's own pattern for ``:name`` binds in text(): not ``::casts``, not ``\:``.
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")
# A command tag that ends in the number of rows: "UPDATE 3", "INSERT 0 3", "SELECT 3".
_ROW_COUNT = re.compile(r"(?:SELECT|UPDATE|DELETE|MERGE|INSERT \d+) (\d+)")


@lru_cache(maxsize=2048)
def positional(sql: str) -> tuple[str, tuple[str, ...]]:
    """``text()`` SQL in asyncpg's form, and the parameter name behind each ``$n``."""
    names: list[str] = []

    def number(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in names:
            names.append(name)
        return f"${names.index(name) + 1}"

    return _BIND.sub(number, sql).replace("\\:", ":"), tuple(names)


def runs_raw(statement: Any) -> bool:
    """Plain ``text()`` whose parameters all come at execution: the raw path can run it."""
    return isinstance(statement, TextClause) and all(
        bind.value is None and not bind.expanding for bind in statement._bindparams.values()
    )


class Row(asyncpg.Record):
    """An asyncpg record that also answers ``row.column``, as SQLAlchemy rows do (and,
    as theirs, equals the tuple of its values). Connections return it for every row
    (``record_class``), so results need no wrapping."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None

    @property
    def _mapping(self) -> Mapping[str, Any]:
        return MappingProxyType(dict(self.items()))


class _Answers(Generic[T]):
    """A statement's answer, materialised: what ``Result`` and ``ScalarResult`` share."""

    __slots__ = ("_items",)

    def __init__(self, items: list[T]) -> None:
        self._items = items

    def __iter__(self) -> Iterator[T]:
        return iter(self._items)

    def all(self) -> list[T]:
        return list(self._items)

    def first(self) -> T | None:
        return self._items[0] if self._items else None

    def one(self) -> T:
        if not self._items:
            raise exc.NoResultFound("No row was found when one was required")
        if len(self._items) > 1:
            raise exc.MultipleResultsFound("Multiple rows were found when exactly one was required")
        return self._items[0]

    def one_or_none(self) -> T | None:
        if len(self._items) > 1:
            raise exc.MultipleResultsFound("Multiple rows were found when one or none was required")
        return self._items[0] if self._items else None


class Scalars(_Answers[Any]):
    """The first column of each row, as ``Result.scalars()`` answers it."""

    __slots__ = ()


class Rows(_Answers[Row]):
    """The rows of one statement, and how many it touched."""

    __slots__ = ("rowcount",)

    def __init__(self, records: list[Row], status: str | None = None) -> None:
        super().__init__(records)
        counted = _ROW_COUNT.match(status or "")
        #: Rows the statement touched, from its command tag; -1 when the tag has no count.
        self.rowcount = int(counted.group(1)) if counted else -1

    def scalar(self) -> Any:
        return self._items[0][0] if self._items else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalars(self) -> Scalars:
        return Scalars([row[0] for row in self._items])

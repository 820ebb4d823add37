"""``text()`` statements run on asyncpg directly, and their rows as SQLAlchemy answers them.

Both the read pool and the sessions' fast path (``hub.driver_session``) run plain
``text()`` SQL without SQLAlchemy's execution machinery: the statement is translated to
asyncpg's ``$n`` form once, and the records come back wrapped so that code written against
SQLAlchemy's results (``row.column``, ``.one()``, ``.scalars().all()``, ``.rowcount``) reads
them unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from types import MappingProxyType
from typing import Any

import asyncpg
from sqlalchemy.sql.elements import TextClause

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


class Rows:
    """The result of one statement: iterable, with the accessors the code uses on
    SQLAlchemy's results."""

    __slots__ = ("_rows", "rowcount")

    def __init__(self, records: list[Row], status: str | None = None) -> None:
        self._rows = records
        counted = _ROW_COUNT.match(status or "")
        #: Rows the statement touched, from its command tag; -1 when the tag has no count.
        self.rowcount = int(counted.group(1)) if counted else -1

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)

    def all(self) -> list[Row]:
        return list(self._rows)

    def first(self) -> Row | None:
        return self._rows[0] if self._rows else None

    def one(self) -> Row:
        if len(self._rows) != 1:
            raise LookupError(f"expected one row, got {len(self._rows)}")
        return self._rows[0]

    def one_or_none(self) -> Row | None:
        if len(self._rows) > 1:
            raise LookupError(f"expected at most one row, got {len(self._rows)}")
        return self._rows[0] if self._rows else None

    def scalar(self) -> Any:
        return self._rows[0][0] if self._rows else None

    def scalar_one(self) -> Any:
        return self.one()[0]

    def scalar_one_or_none(self) -> Any:
        row = self.one_or_none()
        return None if row is None else row[0]

    def scalars(self) -> Scalars:
        return Scalars([row[0] for row in self._rows])


class Scalars:
    """The first column of each row, as ``Result.scalars()`` answers it."""

    __slots__ = ("_values",)

    def __init__(self, values: list[Any]) -> None:
        self._values = values

    def __iter__(self) -> Iterator[Any]:
        return iter(self._values)

    def all(self) -> list[Any]:
        return list(self._values)

    def first(self) -> Any:
        return self._values[0] if self._values else None

    def one(self) -> Any:
        if len(self._values) != 1:
            raise LookupError(f"expected one row, got {len(self._values)}")
        return self._values[0]

    def one_or_none(self) -> Any:
        if len(self._values) > 1:
            raise LookupError(f"expected at most one row, got {len(self._values)}")
        return self._values[0] if self._values else None

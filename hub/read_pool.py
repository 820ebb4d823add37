"""Reads on plain asyncpg connections, beside the SQLAlchemy engine that does the writes.

A GraphQL read is a handful of small statements; through an ORM session each one paid for
a transaction object, an execution context and result processing, several times the
cost of the round trip itself. Resolvers and loaders that read with ``text()`` statements
go through here instead: the statement is translated to asyncpg's ``$n`` form once, run
on a pooled connection in autocommit, and its rows answer attribute access like
SQLAlchemy's. Autocommit changes nothing a reader could see: at READ COMMITTED every
statement takes its own snapshot, inside a transaction or not.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Iterator, Mapping
from functools import lru_cache
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import TextClause

# SQLAlchemy's own pattern for ``:name`` binds in text(): not ``::casts``, not ``\:``.
_BIND = re.compile(r"(?<![:\w\\]):(\w+)(?!:)")


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


class Row:
    """An asyncpg record that also answers ``row.column``, as SQLAlchemy rows do."""

    __slots__ = ("_record",)

    def __init__(self, record: asyncpg.Record) -> None:
        self._record = record

    def __getattr__(self, name: str) -> Any:
        try:
            return self._record[name]
        except KeyError:
            raise AttributeError(name) from None

    def __getitem__(self, index: int | str) -> Any:
        return self._record[index]

    def __iter__(self) -> Iterator[Any]:
        return iter(self._record.values())

    def __len__(self) -> int:
        return len(self._record)


class Rows:
    """The result of one read: iterable, with the accessors loaders use on SQLAlchemy's."""

    __slots__ = ("_rows",)

    def __init__(self, records: list[asyncpg.Record]) -> None:
        self._rows = [Row(r) for r in records]

    def __iter__(self) -> Iterator[Row]:
        return iter(self._rows)

    def all(self) -> list[Row]:
        return list(self._rows)

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


async def _keep_as_is(connection: asyncpg.Connection) -> None:
    """Nothing to reset: reads never leave a transaction, a lock or a setting behind.

    asyncpg's default reset is a round trip on every release, one per statement here."""


async def _init_connection(connection: asyncpg.Connection) -> None:
    # The same JSON handling as SQLAlchemy's asyncpg dialect, so both paths read alike.
    for kind in ("json", "jsonb"):
        await connection.set_type_codec(
            kind, encoder=json.dumps, decoder=json.loads, schema="pg_catalog"
        )


class ReadPool:
    """An asyncpg pool for reads, opened on first use (apps built in tests never start)."""

    def __init__(self, database_url: str, *, size: int) -> None:
        url = make_url(database_url).set(drivername="postgresql")
        self._dsn = url.render_as_string(hide_password=False)
        self._size = size
        self._pool: asyncpg.Pool | None = None
        self._opening = asyncio.Lock()

    async def _open(self) -> asyncpg.Pool:
        async with self._opening:
            if self._pool is None:
                self._pool = await asyncpg.create_pool(
                    self._dsn,
                    min_size=1,
                    max_size=self._size,
                    init=_init_connection,
                    reset=_keep_as_is,
                    server_settings={"application_name": "memberhub-read"},
                )
        return self._pool

    async def execute(self, statement: TextClause, parameters: Mapping[str, Any] | None) -> Rows:
        sql, names = positional(statement.text)
        values = parameters or {}
        pool = self._pool or await self._open()
        return Rows(await pool.fetch(sql, *(values[name] for name in names)))

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

"""Reads on plain asyncpg connections, beside the SQLAlchemy engine that does the writes.

A GraphQL read is a handful of small statements; through an ORM session each one paid for
a transaction object, an execution context and result processing, several times the
cost of the round trip itself. Resolvers and loaders that read with ``text()`` statements
go through here instead (``hub.db.driver_sql``): the statement is translated to asyncpg's
``$n`` form once, run on a pooled connection in autocommit, and its rows answer attribute
access like SQLAlchemy's. Autocommit changes nothing a reader could see: at READ COMMITTED
every statement takes its own snapshot, inside a transaction or not.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from typing import Any

import asyncpg
from sqlalchemy.engine import make_url
from sqlalchemy.sql.elements import TextClause

from hub.db.driver_sql import Row, Rows, positional


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
                    record_class=Row,
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

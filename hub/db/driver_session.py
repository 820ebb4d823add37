"""Sessions whose plain ``text()`` statements go straight to the transaction's connection.

Most writes are ``text()`` statements with their parameters given at execution (the
ledger's multi-row INSERTs, the locks, the fraud rules' reads). Through
``AsyncSession.execute`` each paid SQLAlchemy's CPU (the greenlet hop, an execution
context, parameter and result processing) on top of asyncpg's own, a large share of the
hub's CPU for a till's batch of purchases or a new member's enrolment.
``DriverSession`` runs those statements on the asyncpg connection under the session's
transaction, through the same prepared-statement cache and error translation as
SQLAlchemy's asyncpg dialect, and answers rows that read like SQLAlchemy's
(``hub.db.driver_sql``). Everything else (ORM and Core constructs, executemany, execution
options) goes through SQLAlchemy as before.

The statements still reach the engine's ``before_cursor_execute`` listeners. They do not
reach SQLAlchemy's echo log.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import SessionTransaction

from hub.db.driver_sql import Rows, positional, runs_raw


class DriverSession(AsyncSession):
    """An ``AsyncSession`` whose plain ``text()`` statements take the fast path."""

    #: The transaction the fast path last ran in, its connection and the driver adapter.
    _driver: tuple[SessionTransaction, Connection, Any] | None = None

    async def execute(  # type: ignore[override]
        self, statement: Any, params: Any = None, **options: Any
    ) -> Any:
        if any(options.values()) or not runs_raw(statement) or not _named(params):
            return await super().execute(statement, params, **options)
        sql, names = positional(statement.text)
        values = params or {}
        if any(name not in values for name in names):
            # SQLAlchemy's own error for the missing value.
            return await super().execute(statement, params)
        return await self._run(sql, [values[name] for name in names])

    async def scalar(  # type: ignore[override]
        self, statement: Any, params: Any = None, **options: Any
    ) -> Any:
        if any(options.values()) or not runs_raw(statement) or not _named(params):
            return await super().scalar(statement, params, **options)
        return (await self.execute(statement, params)).scalar()

    async def _run(self, sql: str, arguments: list[Any]) -> Rows:
        connection, adapted = await self._connection()
        if connection.dispatch.before_cursor_execute:
            connection.dispatch.before_cursor_execute(
                connection, None, sql, tuple(arguments), None, False
            )
        async with adapted._execute_mutex:
            try:
                prepared, _ = await adapted._prepare(sql, adapted._invalidate_schema_cache_asof)
                records = await prepared.fetch(*arguments)
            except Exception as error:
                raise _translated(error, adapted, connection, sql, arguments) from error
        return Rows(records, prepared.get_statusmsg())

    async def _connection(self) -> tuple[Connection, Any]:
        """The session's connection and SQLAlchemy's adapter around its asyncpg connection,
        with the database transaction begun (the dialect begins it lazily, on the first
        statement it runs itself)."""
        transaction = self.sync_session.get_transaction()
        if self._driver is not None and transaction is self._driver[0]:
            _, connection, adapted = self._driver
            if adapted._transaction is not None:
                return connection, adapted
        async_connection = await self.connection()
        adapted = (await async_connection.get_raw_connection()).dbapi_connection
        async with adapted._execute_mutex:
            if adapted._transaction is None and not adapted.autocommit:
                await adapted._start_transaction()
        connection = async_connection.sync_connection
        assert connection is not None
        transaction = self.sync_session.get_transaction()
        assert transaction is not None
        self._driver = (transaction, connection, adapted)
        return connection, adapted


def _named(params: Any) -> bool:
    return params is None or isinstance(params, Mapping)


def _translated(
    error: Exception, adapted: Any, connection: Connection, sql: str, arguments: list[Any]
) -> Exception:
    """The error as SQLAlchemy raises it from ``execute`` (``IntegrityError`` and the like,
    with the driver's error and its SQLSTATE in ``.orig``)."""
    try:
        adapted._handle_exception(error)
    except Exception as dbapi_error:
        error = dbapi_error
    dialect = connection.dialect
    return exc.DBAPIError.instance(
        sql,
        arguments,
        error,
        dialect.loaded_dbapi.Error,
        # As the engine's own statements do: parameters (secrets, phones) stay out of logs.
        hide_parameters=connection.engine.hide_parameters,
        dialect=dialect,
    )

"""Counting the SQL statements an operation sends: the proof that lists batch."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncEngine

from hub.db.read_pool import ReadPool


@contextmanager
def counted_statements(engine: AsyncEngine, reads: ReadPool | None = None) -> Iterator[list[str]]:
    """Statements sent through ``engine`` and, given the app's ``reads``, its read pool
    (where the loaders' reads go: a count without them would miss an N+1 there)."""
    statements: list[str] = []

    def count(conn, cursor, statement, parameters, context, executemany) -> None:  # type:
        # ignore[no-untyped-def]
        statements.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", count)
    if reads is not None:
        run = reads.execute

        async def counted_read(statement: Any, parameters: Any) -> Any:
            statements.append(statement.text)
            return await run(statement, parameters)

        reads.execute = counted_read  # type: ignore[method-assign]
    try:
        yield statements
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", count)
        if reads is not None:
            del reads.execute

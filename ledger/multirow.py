"""Multi-row INSERTs with one statement text for any number of rows.

Each column travels as one array parameter, named as the column, and ``unnest`` turns the
arrays back into rows: one prepared statement serves every batch size, where a VALUES list
would be a new statement for each row count and executemany a round of work per row.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from typing import Any

from sqlalchemy import Result, text
from sqlalchemy.ext.asyncio import AsyncSession


class MultiRowInsert:
    """``INSERT INTO table (columns) SELECT … FROM unnest(…) suffix`` of rows given as dicts.

    ``columns`` maps each column to its SQL type; ``suffix`` is the rest of the statement
    (ORDER BY, ON CONFLICT, RETURNING). A column in ``lists`` (a ``text[]``) holds a list of
    strings or None; it travels comma-joined and is split again in SQL, so its items must
    hold no comma (the reason codes it is used for do not).
    """

    def __init__(
        self,
        table: str,
        columns: Mapping[str, str],
        *,
        lists: Collection[str] = (),
        suffix: str = "",
    ) -> None:
        self.columns = tuple(columns)
        self.lists = frozenset(lists)
        names = ", ".join(self.columns)
        values = ", ".join(
            f"string_to_array({c}, ',')" if c in self.lists else c for c in self.columns
        )
        arrays = ", ".join(
            f"CAST(:{c} AS {'text' if c in self.lists else t}[])" for c, t in columns.items()
        )
        self.statement = text(
            f"INSERT INTO {table} ({names}) SELECT {values} FROM unnest({arrays}) AS v({names})"
            + (f" {suffix}" if suffix else "")
        )

    async def execute(
        self, session: AsyncSession, rows: Sequence[Mapping[str, Any]]
    ) -> Result[Any]:
        return await self.execute_columns(
            session, {c: [row[c] for row in rows] for c in self.columns}
        )

    async def execute_columns(
        self, session: AsyncSession, columns: Mapping[str, list[Any]]
    ) -> Result[Any]:
        """``execute`` for rows a caller already holds as columns (a list per column, in
        row order), sparing a dict per row."""
        arrays = dict(columns)
        for c in self.lists:
            arrays[c] = [",".join(v) if v is not None else None for v in arrays[c]]
        return await session.execute(self.statement, arrays)

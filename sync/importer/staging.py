"""What every import shares: reading a CSV a chunk at a time, and COPY into staging."""

from __future__ import annotations

import csv
from collections.abc import Callable, Iterator
from decimal import InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")

#: Rows per chunk: each chunk is one transaction, and all the memory an import holds.
CHUNK = 2_000


class RowError(ValueError):
    """A row not imported; the reason starts with the column(s) at fault."""

    def __init__(self, column: str, message: str) -> None:
        super().__init__(f"{column}: {message}")
        self.column = column


def check_row_shape(raw: dict[str | None, Any]) -> None:
    """Refuse a row with more values than the header has columns: its values would be read
    under the wrong columns if a separator crept into one of them."""
    extra = raw.get(None)
    if extra:
        raise RowError(
            "(extra column)",
            f"{len(extra)} value(s) beyond the header's last column: {extra!r}",
        )


def column(raw: dict[str, str], name: str, parse: Callable[[str], T]) -> T:
    """``parse`` of the stripped value of column ``name``; a RowError naming it if it fails."""
    try:
        return parse((raw.get(name) or "").strip())
    except RowError:
        raise
    except (ValueError, InvalidOperation) as error:
        raise RowError(name, f"bad value: {error}") from None


def read_chunks(path: Path, size: int) -> Iterator[list[tuple[int, dict[str, str]]]]:
    with path.open(newline="", encoding="utf-8-sig") as handle:
        reader = csv.DictReader(handle)
        chunk: list[tuple[int, dict[str, str]]] = []
        for row_no, raw in enumerate(reader, start=2):  # line 1 is the header
            chunk.append((row_no, raw))
            if len(chunk) >= size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk


async def copy_records(
    conn: AsyncConnection, table: str, records: list[tuple[Any, ...]], columns: list[str]
) -> None:
    raw = await conn.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(table, records=records, columns=columns)  # type: ignore[union-attr]

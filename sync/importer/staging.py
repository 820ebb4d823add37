"""What every import shares: reading a CSV a chunk at a time, and COPY into staging."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy.ext.asyncio import AsyncConnection

#: Rows per chunk: each chunk is one transaction, and all the memory an import holds.
CHUNK = 2_000


class RowError(ValueError):
    pass


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

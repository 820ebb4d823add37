"""What every import shares: reading a CSV a chunk at a time, and COPY into staging."""

from __future__ import annotations

import csv
import dataclasses
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from decimal import InvalidOperation
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncConnection

T = TypeVar("T")

#: Rows per chunk: each chunk is one transaction, and all the memory an import holds.
CHUNK = 2_000


def counted(label: str) -> Any:
    """A count of an import's summary (a dataclass field), reported as ``label: n``."""
    return dataclasses.field(default=0, metadata={"label": label})


class Summary:
    """What an import did, as counts; a dataclass whose fields are each ``counted``."""

    def lines(self) -> list[str]:
        return [
            f"{f.metadata['label']}: {getattr(self, f.name)}"
            for f in dataclasses.fields(self)  # type: ignore[arg-type]
        ]


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


Reject = Callable[[int, dict[str, str], str], None]


@contextmanager
def rejects_file(path: Path, columns: Sequence[str], summary: Any) -> Iterator[Reject]:
    """The rejects CSV at ``path``: each rejected row (line, its columns, the reason) is
    written to it and counted in ``summary.rejected``."""
    with path.open("w", newline="", encoding="utf-8") as out:
        writer = csv.writer(out)
        writer.writerow(["line", *columns, "reason"])

        def reject(row_no: int, raw: dict[str, str], reason: str) -> None:
            summary.rejected += 1
            writer.writerow([row_no, *(raw.get(c, "") for c in columns), reason])

        yield reject


def parse_chunk(
    chunk: list[tuple[int, dict[str, str]]],
    parse: Callable[[int, dict[str, str]], T],
    reject: Reject,
) -> list[T]:
    """The chunk's rows that ``parse`` reads; each it refuses (a RowError) is rejected."""
    parsed = []
    for row_no, raw in chunk:
        try:
            parsed.append(parse(row_no, raw))
        except RowError as error:
            reject(row_no, raw, str(error))
    return parsed


async def copy_records(
    conn: AsyncConnection, table: str, records: list[tuple[Any, ...]], columns: list[str]
) -> None:
    raw = await conn.get_raw_connection()
    await raw.driver_connection.copy_records_to_table(table, records=records, columns=columns)  # type: ignore[union-attr]

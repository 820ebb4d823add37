"""DateTime variables: the standard library's parser where it reads a value as dateutil's
does, dateutil's everywhere else; the schema coerces through it."""

from __future__ import annotations

import pytest
from dateutil.parser import isoparse

from hub.execution.datetime_scalar import parse_datetime
from hub.execution.schema import build_schema

VALUES = [
    "2026-12-06T04:05:06Z",
    "2026-12-06T04:05:06+08:00",
    "2026-12-06T04:05:06.123+08:00",
    "2026-12-06T04:05:06.123456-03:30",
    "2026-12-06T04:05",
    "2026-12-06T04:05:06",
    "2026-12-06T24:00:00Z",
    "2026-12-06T04:05:06z",
    "2026-12-06T040506Z",
    "2026-12-06T04:05:06.1234567Z",
    # The standard library takes these; dateutil, and so the scalar, does not.
    "2026-12-06T04:05:06.Z",
    "2026-12-06T04:05:06 +08:00",
    "2026-12-06T04:05:06+08:00:30",
    "2026-12-06T04:05:06+24:00",
    "2026-02-29T00:00:00Z",
    "2026-12-06T04:05:60Z",
]


def _read(parse, value: str) -> object:  # type: ignore[no-untyped-def]
    try:
        return parse(value)
    except ValueError:
        return ValueError


@pytest.mark.parametrize("value", VALUES)
def test_a_datetime_reads_as_dateutil_reads_it(value: str) -> None:
    assert _read(parse_datetime, value) == _read(isoparse, value)
    parsed = _read(parse_datetime, value)
    if parsed is not ValueError:
        assert parsed.utcoffset() == isoparse(value).utcoffset()  # type: ignore[attr-defined]


def test_the_schema_coerces_datetime_variables_through_it() -> None:
    scalar = build_schema()._schema.type_map["DateTime"]
    # strawberry's wrapper holds the parser it was given.
    assert parse_datetime in [cell.cell_contents for cell in scalar.parse_value.__closure__]
    assert scalar.parse_value("2026-12-06T04:05:06+08:00") == isoparse("2026-12-06T04:05:06+08:00")

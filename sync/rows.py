"""Records read from rows: a frozen dataclass filled from a result row's columns of the same
names as its fields."""

from __future__ import annotations

import dataclasses
import functools
from typing import Any, TypeVar

T = TypeVar("T")


def record_from(cls: type[T], row: Any, **converted: Any) -> T:
    """A ``cls`` with each field the same-named attribute of ``row`` (a result row, or any
    object), but for the fields given in ``converted``."""
    values = {name: getattr(row, name) for name in _field_names(cls) if name not in converted}
    return cls(**values, **converted)


@functools.cache
def _field_names(cls: type) -> tuple[str, ...]:
    # ``dataclasses.fields`` builds its answer on every call; a page reads hundreds of rows.
    return tuple(f.name for f in dataclasses.fields(cls) if f.init)

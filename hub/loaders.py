"""Per-request dataloaders, one per (entity, key), so list fields never query per item."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

Execute = Callable[[Any], Awaitable[Any]]


class Loaders:
    """Created for each request; each area adds its loaders as cached properties."""

    def __init__(self, execute: Execute) -> None:
        self.execute = execute

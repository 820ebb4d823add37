"""Time as the hub sees it: the system clock, or a settable one for tests and demos."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime: ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class SettableClock:
    """A clock that stands still until set or advanced; T+1, expiry and business days
    are tested with it instead of sleeping."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime.now(UTC)

    def now(self) -> datetime:
        return self._now

    def set(self, moment: datetime) -> None:
        if moment.tzinfo is None:
            raise ValueError("a naive datetime has no place on the hub's clock")
        self._now = moment

    def advance(self, delta: timedelta) -> None:
        self._now += delta

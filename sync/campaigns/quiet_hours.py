"""Quiet hours: local times when campaign messages wait (``MEMBERHUB_CAMPAIGN_QUIET_HOURS``)."""

from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

QuietHours = tuple[time, time]


def parse_quiet_hours(value: str) -> QuietHours | None:
    """``"21:00-09:00"`` -> (21:00, 09:00); empty -> None; ValueError otherwise."""
    value = value.strip()
    if not value:
        return None
    start, sep, end = value.partition("-")
    if not sep:
        raise ValueError("quiet hours look like 21:00-09:00")
    begins, ends = time.fromisoformat(start.strip()), time.fromisoformat(end.strip())
    if begins == ends:
        raise ValueError("quiet hours must not start and end at the same time")
    return begins, ends


def quiet_until(now: datetime, hours: QuietHours | None, zone: str) -> datetime | None:
    """When the quiet hours around ``now`` end, or None when ``now`` is not quiet."""
    if hours is None:
        return None
    start, end = hours
    local = now.astimezone(ZoneInfo(zone))
    clock = local.time().replace(tzinfo=None)
    quiet = (start <= clock or clock < end) if start > end else (start <= clock < end)
    if not quiet:
        return None
    ending = local.replace(hour=end.hour, minute=end.minute, second=0, microsecond=0)
    if ending <= local:
        ending += timedelta(days=1)
    return ending

"""The settings' earning rules: the base rate until one is defined at run time, the rules'
name, and when purchase points settle.

Purchases are priced by ``ledger.promotion_rules`` on the stored rules
(``ledger.rule_store``); each records the version that priced it, so a rule change never
reprices what was recorded before.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True)
class EarningRules:
    version: str = "2026-01"
    #: Points for each full 100 yuan of a purchase's amount (10 per 100: 1 per 10 yuan).
    points_per_100: int = 10
    #: Purchase points settle to AVAILABLE this many business days later (T+1).
    settlement_days: int = 1


def settles_at(occurred_at: datetime, *, days: int, zone: ZoneInfo) -> datetime:
    """The start of the business day ``days`` after the purchase's business day."""
    day = occurred_at.astimezone(zone).date() + timedelta(days=days)
    return datetime.combine(day, time.min, tzinfo=zone)

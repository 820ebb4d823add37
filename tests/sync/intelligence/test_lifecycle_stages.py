"""Lifecycle stages of one member from its first and last purchase, without a database."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sync.intelligence.scores import IntelligenceConfig, lifecycle_of

NOW = datetime(2026, 6, 1, 12, tzinfo=UTC)
CONFIG = IntelligenceConfig(new_days=30, active_days=90, dormant_days=180)


def days_ago(days: float) -> datetime:
    return NOW - timedelta(days=days)


def test_a_member_without_purchases_is_a_prospect() -> None:
    assert lifecycle_of(None, None, now=NOW, config=CONFIG) == "PROSPECT"


@pytest.mark.parametrize(
    ("first", "last", "stage"),
    [
        (10, 10, "NEW"),  # first purchase within the new-member window
        (29.9, 1, "NEW"),
        (30, 1, "ACTIVE"),  # the window is exclusive at its far end
        (400, 89, "ACTIVE"),
        (400, 90, "DORMANT"),
        (400, 179, "DORMANT"),
        (400, 180, "CHURNED"),
        (800, 700, "CHURNED"),
    ],
)
def test_stages_follow_the_first_and_last_purchase(first: float, last: float, stage: str) -> None:
    assert lifecycle_of(days_ago(first), days_ago(last), now=NOW, config=CONFIG) == stage


def test_a_new_member_stays_new_however_long_ago_it_last_bought() -> None:
    # New is decided by the first purchase alone: a member is new for its first month.
    assert lifecycle_of(days_ago(5), days_ago(5), now=NOW, config=CONFIG) == "NEW"

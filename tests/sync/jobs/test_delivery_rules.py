"""Webhook delivery rules, without a database: outcomes, backoff, who may receive what."""

from __future__ import annotations

from datetime import timedelta

import pytest

from sync.model import (
    DeliveryPolicy,
    Outcome,
    classify_response,
    may_receive,
    retry_delay,
    sees_personal_data,
)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (200, Outcome.DELIVERED),
        (204, Outcome.DELIVERED),
        (None, Outcome.RETRY),  # no response at all: a network error
        (500, Outcome.RETRY),
        (503, Outcome.RETRY),
        (408, Outcome.RETRY),
        (429, Outcome.RETRY),
        (301, Outcome.FAILED),  # redirects are not followed
        (400, Outcome.FAILED),
        (410, Outcome.FAILED),
    ],
)
def test_a_response_becomes_an_outcome(status: int | None, outcome: Outcome) -> None:
    assert classify_response(status) is outcome


def test_backoff_doubles_up_to_its_cap_with_full_jitter() -> None:
    policy = DeliveryPolicy(first_retry=timedelta(seconds=10), max_retry_delay=timedelta(hours=1))
    assert retry_delay(1, policy, fraction=lambda: 1.0) == timedelta(seconds=10)
    assert retry_delay(3, policy, fraction=lambda: 1.0) == timedelta(seconds=40)
    assert retry_delay(50, policy, fraction=lambda: 1.0) == timedelta(hours=1)
    assert retry_delay(10_000, policy, fraction=lambda: 1.0) == timedelta(hours=1)
    assert retry_delay(3, policy, fraction=lambda: 0.0) == timedelta(0)
    assert retry_delay(3, policy, fraction=lambda: 0.5) == timedelta(seconds=20)


def test_member_events_need_members_read_and_admin_events_need_admin() -> None:
    assert may_receive({"members:read"}, "member.created")
    assert not may_receive({"purchases:write"}, "member.created")
    assert not may_receive({"members:read"}, "webhook.disabled")
    assert may_receive({"admin"}, "webhook.disabled")
    # A test delivery goes to whoever asked for it.
    assert may_receive(set(), "webhook.test")


def test_personal_data_needs_pii_read_or_admin() -> None:
    assert sees_personal_data({"pii:read"})
    assert sees_personal_data({"admin"})
    assert not sees_personal_data({"members:read"})

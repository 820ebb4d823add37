"""The ledger's pure rules, without a database: lifetime points, debts, fraud decisions."""

from __future__ import annotations

import pytest

from ledger.checks import ACCEPTED, CheckResult, FraudOutcome, strictest
from ledger.lots import lot_amount_of_credit
from ledger.model import Bucket, EntryKind, lifetime_delta


@pytest.mark.parametrize("kind", [EntryKind.EARN, EntryKind.BONUS, EntryKind.ADJUST])
def test_earning_credits_count_towards_lifetime_points(kind: EntryKind) -> None:
    assert lifetime_delta(kind, Bucket.AVAILABLE, 120) == 120
    assert lifetime_delta(kind, Bucket.PENDING, 120) == 120


def test_held_points_count_only_once_an_operator_credits_them() -> None:
    assert lifetime_delta(EntryKind.EARN, Bucket.HELD, 500) == 0


def test_a_clawback_takes_lifetime_points_back_and_spending_does_not() -> None:
    assert lifetime_delta(EntryKind.CLAWBACK, Bucket.AVAILABLE, -80) == -80
    assert lifetime_delta(EntryKind.REDEEM, Bucket.AVAILABLE, -80) == 0
    assert lifetime_delta(EntryKind.EXPIRE, Bucket.AVAILABLE, -80) == 0
    # A negative adjustment corrects a balance; it is not a clawback of earned points.
    assert lifetime_delta(EntryKind.ADJUST, Bucket.AVAILABLE, -80) == 0


@pytest.mark.parametrize(
    ("balance_before", "credit", "lot"),
    [
        (0, 100, 100),  # no debt: the whole credit forms a lot
        (50, 100, 100),
        (-30, 100, 70),  # the debt is paid first
        (-100, 100, 0),  # exactly the debt: nothing left to form a lot
        (-250, 100, 0),  # a larger debt swallows the credit
    ],
)
def test_a_credit_pays_a_debt_before_it_forms_a_lot(
    balance_before: int, credit: int, lot: int
) -> None:
    assert lot_amount_of_credit(balance_before, credit) == lot


def test_no_rule_firing_is_an_acceptance() -> None:
    assert strictest([]) == ACCEPTED


def test_the_strictest_rule_decides_and_every_fired_rule_is_named_once() -> None:
    held = CheckResult(FraudOutcome.HELD, "VELOCITY_MEMBER_DAY")
    rejected = CheckResult(FraudOutcome.REJECTED, "DUPLICATE_RECEIPT")
    decision = strictest([held, rejected, held])
    assert decision.outcome is FraudOutcome.REJECTED
    assert decision.reasons == ("VELOCITY_MEMBER_DAY", "DUPLICATE_RECEIPT")
    assert decision.rejection == rejected


def test_a_hold_names_no_rejection() -> None:
    held = CheckResult(FraudOutcome.HELD, "LARGE_AMOUNT")
    decision = strictest([CheckResult(FraudOutcome.ACCEPTED, "OK"), held])
    assert decision.outcome is FraudOutcome.HELD
    assert decision.rejection is None

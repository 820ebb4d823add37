"""Dates no till can produce are INVALID_INPUT: purchases older than the points' validity
or in the future, refunds before their purchase or in the future."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from tests.hub.api.purchases_graphql import RECORD, REFUND, count

NOW = datetime.now(UTC)


def purchase(receipt: str, at: datetime) -> dict:
    return {
        "storeId": "S001",
        "receiptNo": receipt,
        "channel": "POS",
        "occurredAt": at.isoformat(),
        "amount": "100.00",
    }


def codes(payload: dict) -> list[str]:
    return [e["code"] for e in payload["userErrors"]]


@pytest.mark.parametrize(
    "at",
    [datetime(1, 1, 1, tzinfo=UTC), NOW - timedelta(days=3 * 365), NOW + timedelta(days=2)],
)
async def test_a_purchase_outside_the_window_is_invalid_input(live_client, run_in_transaction, at):
    admin = await live_client("admin")

    body = await admin.data(RECORD, input=purchase("R-1", at))

    assert codes(body["recordPurchase"]) == ["INVALID_INPUT"]
    assert await count(run_in_transaction, "purchases") == 0


async def test_a_recent_purchase_is_recorded(live_client):
    admin = await live_client("admin")

    body = await admin.data(RECORD, input=purchase("R-1", NOW - timedelta(days=30)))

    assert codes(body["recordPurchase"]) == []


@pytest.mark.parametrize("offset", [timedelta(days=-1), timedelta(days=30)])
async def test_a_refund_before_its_purchase_or_in_the_future_is_invalid_input(
    live_client, run_in_transaction, offset
):
    admin = await live_client("admin")
    bought = NOW - timedelta(days=10)
    await admin.data(RECORD, input=purchase("R-1", bought))

    body = await admin.data(
        REFUND,
        input={
            "storeId": "S001",
            "receiptNo": "R-1",
            "refundNo": "F-1",
            "amount": "10.00",
            "occurredAt": (bought + offset if offset.days < 0 else NOW + offset).isoformat(),
        },
    )

    assert codes(body["refundPurchase"]) == ["INVALID_INPUT"]
    assert await count(run_in_transaction, "refunds") == 0

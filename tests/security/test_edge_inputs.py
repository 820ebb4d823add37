"""No input is an unexpected error: NUL bytes, non-finite or huge numbers, amounts whose
points overflow, non-ASCII credentials. Each is a user error INVALID_INPUT (a 401 for the
header), and one bad purchase of a batch is that purchase's error alone."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from tests.hub.api.members_graphql import created_member
from tests.hub.api.points_graphql import ADJUST
from tests.hub.api.purchases_graphql import RECORD, RECORD_BATCH, assert_ledger_verifies, count

MASKED = "Unexpected error."


def purchase(receipt: str, amount: str, **extra: Any) -> dict[str, Any]:
    return {
        "storeId": "S001",
        "receiptNo": receipt,
        "channel": "POS",
        "occurredAt": datetime.now(UTC).isoformat(),
        "amount": amount,
        **extra,
    }


def assert_invalid_input(body: dict[str, Any], field: str) -> None:
    assert "errors" not in body, body
    errors = body["data"][field]["userErrors"]
    assert [e["code"] for e in errors] == ["INVALID_INPUT"], body


@pytest.mark.parametrize(
    "amount",
    [
        "NaN",
        "sNaN",
        "Infinity",
        "-Infinity",
        "1e309",
        "1e300000",
        "1" * 30,
        "0." + "1" * 30,
        "21474836470",
        "99999999999.99",
    ],
)
async def test_bad_amounts_are_user_errors(live_client, run_in_transaction, amount):
    admin = await live_client("admin")

    body = await admin.execute(RECORD, input=purchase("R-1", amount))

    assert_invalid_input(body, "recordPurchase")
    assert await count(run_in_transaction, "purchases") == 0


@pytest.mark.parametrize(
    "change",
    [
        {"storeId": "S\x00001"},
        {"receiptNo": "R\x001"},
        {"operatorId": "op\x00"},
        {"items": [{"sku": "A\x00", "quantity": 1, "unitPrice": "1.00"}]},
        {"items": [{"sku": "A", "category": "c\x00", "quantity": 1, "unitPrice": "1.00"}]},
        {"identities": [{"type": "POS_CARD", "namespace": "pos", "value": "C\x001"}]},
    ],
)
async def test_nul_bytes_are_user_errors(live_client, run_in_transaction, change):
    admin = await live_client("admin")

    body = await admin.execute(RECORD, input={**purchase("R-1", "10.00"), **change})

    assert_invalid_input(body, "recordPurchase")
    assert await count(run_in_transaction, "purchases") == 0


async def test_nul_in_a_query_argument_is_invalid_input(live_client):
    admin = await live_client("admin")

    body = await admin.execute(
        "query($s: ID!, $r: String!) { purchase(storeId: $s, receiptNo: $r) { id } }",
        s="S001",
        r="R\x00",
    )

    assert [e["extensions"]["code"] for e in body["errors"]] == ["INVALID_INPUT"], body


async def test_adjustment_that_overflows_points_is_a_user_error(live_client, run_in_transaction):
    admin = await live_client("admin")
    member = await created_member(admin, "POS", {"type": "EMAIL", "value": "a@example.com"})
    await admin.data(
        ADJUST,
        input={"memberId": member["id"], "points": 100, "idempotencyKey": "k0", "reason": "r"},
    )

    body = await admin.execute(
        ADJUST,
        input={
            "memberId": member["id"],
            "points": 2147483647,
            "idempotencyKey": "k1",
            "reason": "r",
        },
    )

    assert_invalid_input(body, "adjustPoints")
    await assert_ledger_verifies(run_in_transaction)


async def test_one_bad_purchase_of_a_batch_is_its_own_error(live_client, run_in_transaction):
    admin = await live_client("admin")
    inputs = [purchase("R-1", "10.00"), purchase("R-2", "NaN"), purchase("R-3", "12.00")]

    body = await admin.execute(RECORD_BATCH, inputs=inputs)

    assert "errors" not in body, body
    answers = body["data"]["recordPurchases"]
    assert [a["userErrors"] for a in answers[::2]] == [[], []]
    assert [e["code"] for e in answers[1]["userErrors"]] == ["INVALID_INPUT"]
    assert answers[1]["userErrors"][0]["field"][:3] == ["inputs", "1", "amount"]
    assert await count(run_in_transaction, "purchases") == 2


@pytest.mark.parametrize("token", ["mt.abc.é", "mh_é", "mt.\u00ff\u00fe.x"])
async def test_non_ascii_bearer_token_is_401(live_http, token):
    response = await live_http.post(
        "/graphql",
        content=b'{"query": "{ __typename }"}',
        headers={
            "Authorization": f"Bearer {token}".encode("latin-1"),
            "Content-Type": "application/json",
        },
    )

    assert response.status_code == 401, response.text

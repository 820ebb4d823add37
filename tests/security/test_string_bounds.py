"""Every string input has a maximum length: the API answers a longer one INVALID_INPUT and
writes nothing, and the database refuses it from any other writer too."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError

from tests.hub.api.purchases_graphql import RECORD, count

DEFINE_TAG = """
mutation Tag($input: TagInput!) {
  defineTag(input: $input) { tag { id } userErrors { code field message } }
}
"""


#: The documented lengths (docs/limits.md).
LENGTHS = {"storeId": 64, "operatorId": 64, "sku": 64, "category": 100, "description": 1000}


def max_length(name: str) -> int:
    return LENGTHS[name]


def purchase(**extra: Any) -> dict[str, Any]:
    return {
        "storeId": "S001",
        "receiptNo": "R-1",
        "channel": "POS",
        "occurredAt": datetime.now(UTC).isoformat(),
        "amount": "10.00",
        **extra,
    }


def item(**extra: Any) -> dict[str, Any]:
    return {"sku": "A", "quantity": 1, "unitPrice": "10.00", **extra}


def long(name: str) -> str:
    return "x" * (max_length(name) + 1)


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"storeId": long("storeId")}, ["input", "storeId"]),
        ({"operatorId": long("operatorId")}, ["input", "operatorId"]),
        ({"items": [item(sku=long("sku"))]}, ["input", "items", "0", "sku"]),
        ({"items": [item(category="c" * 500_000)]}, ["input", "items", "0", "category"]),
    ],
)
async def test_a_string_over_its_length_is_invalid_input(
    live_client, run_in_transaction, change, field
):
    admin = await live_client("admin")

    body = await admin.execute(RECORD, input=purchase(**change))

    errors = body["data"]["recordPurchase"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [("INVALID_INPUT", field)], body
    assert await count(run_in_transaction, "purchases") == 0


async def test_a_string_at_its_length_is_accepted(live_client):
    admin = await live_client("admin")
    category = "c" * max_length("category")

    body = await admin.execute(RECORD, input=purchase(items=[item(category=category)]))

    assert body["data"]["recordPurchase"]["userErrors"] == [], body


async def test_a_long_tag_description_is_invalid_input(live_client, run_in_transaction):
    admin = await live_client("admin")

    body = await admin.execute(
        DEFINE_TAG, input={"name": "vip", "description": long("description")}
    )

    errors = body["data"]["defineTag"]["userErrors"]
    assert [(e["code"], e["field"]) for e in errors] == [
        ("INVALID_INPUT", ["input", "description"])
    ]
    assert await count(run_in_transaction, "tags WHERE name = 'vip'") == 0


@pytest.mark.parametrize(
    ("statement", "params"),
    [
        (
            "UPDATE purchase_items SET category = :v",
            {"v": "c" * (max_length("category") + 1)},
        ),
        ("UPDATE purchase_items SET sku = :v", {"v": "s" * (max_length("sku") + 1)}),
        ("UPDATE purchases SET operator_id = :v", {"v": "o" * (max_length("operatorId") + 1)}),
    ],
)
async def test_the_database_refuses_what_the_api_would(
    live_client, run_in_transaction, statement, params
):
    admin = await live_client("admin")
    recorded = await admin.data(RECORD, input=purchase(items=[item(category="shoes")]))
    assert recorded["recordPurchase"]["userErrors"] == []

    with pytest.raises(IntegrityError, match="length"):
        await run_in_transaction(lambda s: s.execute(text(statement), params))
